use super::LowerCx;
use crate::ir::Op;
pub(crate) fn lower(_s: &sqlparser::ast::Statement, _cx: &LowerCx) -> Vec<Op> {
    Vec::new()
}
