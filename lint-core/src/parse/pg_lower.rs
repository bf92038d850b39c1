use super::LowerCx;
use crate::ir::Op;
pub(crate) fn lower(_n: &pg_query::protobuf::node::Node, _cx: &LowerCx) -> Vec<Op> {
    Vec::new()
}
#[cfg(test)]
mod dump {
    #[test]
    fn dump() {
        let src = std::fs::read_to_string("/tmp/dump.sql").unwrap_or_default();
        let f = crate::parse::parse_file(&src, crate::Dialect::Postgres);
        for s in &f.statements {
            println!("=== {}\n{:?}", s.text(&src), s.native);
        }
    }
}
