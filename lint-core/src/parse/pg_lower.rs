use super::LowerCx;
use crate::ir::Op;
pub(crate) fn lower(_n: &pg_query::protobuf::node::Node, _cx: &LowerCx) -> Vec<Op> {
    Vec::new()
}
