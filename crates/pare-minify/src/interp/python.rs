//! python: its own library and the files its arguments name.

use crate::interp::{Context, Invocation, Undecided};
use crate::plan::Plan;

/// Whether a program's real file name is this interpreter.
pub fn is(_name: &str) -> bool {
    false
}

/// Files whose bytes this rule reads.
pub fn wants(_path: &str) -> bool {
    false
}

/// Keeps the interpreter's library and what its arguments name.
pub fn add(_cx: &Context<'_>, _invocation: &Invocation, _plan: &mut Plan) -> Vec<Undecided> {
    Vec::new()
}
