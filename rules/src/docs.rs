//! The rules reference (`docs/rules.md`), generated from the registry so it cannot drift from the
//! rules themselves. A test compares the committed file with this output.

use crate::peers::{Coverage, PEER_CHECKS};
use crate::registry::{BUILTINS, RULES};
use crate::rule::{FixKind, RuleMeta};
use std::fmt::Write as _;

fn dialects(m: &RuleMeta) -> String {
    m.dialects.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
}

fn fix(m: &RuleMeta) -> &'static str {
    match m.fix {
        FixKind::None => "",
        FixKind::Safe => "safe",
        FixKind::Unsafe => "unsafe",
    }
}

/// The whole reference document, Markdown.
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "# Rules\n\n<!-- Generated from the rule sources by `SLUICE_UPDATE_DOCS=1 cargo test -p sluice-rules --test docs`. Do not edit. -->\n\n\
         Every rule, with its dialects, category, default severity and whether `sluice lint --fix` can\n\
         repair it. `sluice explain <rule>` prints the same documentation. Severities can be changed\n\
         or rules turned off in `sluice.toml` under `[rules]`.\n\n\
         | rule | dialects | category | severity | fix | what it flags |\n|---|---|---|---|---|---|\n",
    );
    for m in RULES.iter().map(|r| r.meta()) {
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} | {} | {} | {} |",
            m.name,
            m.name,
            dialects(m),
            m.category.name(),
            m.severity.name(),
            fix(m),
            m.summary().replace('|', "\\|")
        );
    }
    out.push_str("\nBuilt-in diagnostics (reported by the linter itself):\n\n| name | dialects | severity | what it reports |\n|---|---|---|---|\n");
    for m in BUILTINS {
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} | {} |",
            m.name,
            m.name,
            dialects(m),
            m.severity.name(),
            m.summary().replace('|', "\\|")
        );
    }
    out.push_str(&peer_coverage());
    for m in RULES.iter().map(|r| r.meta()).chain(BUILTINS.iter().copied()) {
        let _ = write!(
            out,
            "\n## {}\n\nDialects: {}. Category: {}. Default severity: {}.{}\n\n",
            m.name,
            dialects(m),
            m.category.name(),
            m.severity.name(),
            match m.fix {
                FixKind::None => String::new(),
                k => format!(" Fix: {}.", if k == FixKind::Safe { "safe" } else { "unsafe (`--unsafe-fixes`)" }),
            }
        );
        // Demote the rule's own sections one level below its heading.
        for line in m.documentation().lines() {
            if let Some(rest) = line.strip_prefix("## ") {
                let _ = writeln!(out, "### {rest}");
            } else {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// The table of other linters' PostgreSQL checks and the Sluice rules that cover them.
fn peer_coverage() -> String {
    let mut out = String::from(
        "\n## Checks of other linters\n\nThe PostgreSQL migration-safety checks of Squawk, Eugene, pg-migration-lint and Atlas, \
         each with the Sluice rules that report it, or the reason it is left out.\n\n\
         | linter | check | Sluice |\n|---|---|---|\n",
    );
    for c in PEER_CHECKS {
        let sluice = match c.coverage {
            Coverage::Rules(names) => names.iter().map(|n| format!("[`{n}`](#{n})")).collect::<Vec<_>>().join(", "),
            Coverage::LeftOut(reason) => format!("left out: {reason}"),
        };
        let _ =
            writeln!(out, "| {} | {} | {} |", c.peer.name(), c.check.replace('|', "\\|"), sluice.replace('|', "\\|"));
    }
    out
}
