//! `docs/rules.md` is generated from the rule sources; this test fails when it is stale.
//! Regenerate with `SLUICE_UPDATE_DOCS=1 cargo test -p sluice-rules --test docs`.

#[test]
fn rules_reference_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md");
    let expected = sluice_rules::docs::rules_markdown();
    if std::env::var_os("SLUICE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/rules.md");
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rules.md is stale: run `SLUICE_UPDATE_DOCS=1 cargo test -p sluice-rules --test docs`"
    );
}
