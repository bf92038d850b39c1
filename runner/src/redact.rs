//! Connection strings without their passwords, for every message and log line.

/// `postgres://user:secret@host/db` becomes `postgres://user:***@host/db`; a key/value conninfo
/// string (`host=h password=secret`) gets `password=***`. Text that is neither is returned as is.
pub fn redact_url(s: &str) -> String {
    if let Ok(mut u) = url::Url::parse(s) {
        if u.password().is_some() && u.set_password(Some("***")).is_ok() {
            let mut out = u.to_string();
            redact_query_password(&mut out);
            return out;
        }
        let mut out = s.to_string();
        redact_query_password(&mut out);
        return out;
    }
    redact_text(s)
}

/// Replaces the value of every `password=` key (conninfo or query parameter) with `***`.
pub fn redact_text(s: &str) -> String {
    let mut out = s.to_string();
    redact_query_password(&mut out);
    out
}

fn redact_query_password(s: &mut String) {
    let lower = s.to_ascii_lowercase();
    let mut result = String::with_capacity(s.len());
    let mut last = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find("password=") {
        let start = search + found + "password=".len();
        let at_boundary = search + found == 0
            || matches!(lower.as_bytes()[search + found - 1], b' ' | b'?' | b'&' | b'\t' | b'\n' | b';');
        if !at_boundary {
            search = start;
            continue;
        }
        let bytes = s.as_bytes();
        let end = if bytes.get(start) == Some(&b'\'') {
            // Quoted conninfo value: up to the closing quote (backslash escapes skipped).
            let mut i = start + 1;
            while i < bytes.len() && bytes[i] != b'\'' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            (i + 1).min(bytes.len())
        } else {
            let rest = &s[start..];
            start + rest.find([' ', '&', '\t', '\n', ';']).unwrap_or(rest.len())
        };
        result.push_str(&s[last..start]);
        result.push_str("***");
        last = end;
        search = end;
    }
    result.push_str(&s[last..]);
    *s = result;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(redact_url("postgres://app:s3cret@db.example:5432/prod"), "postgres://app:***@db.example:5432/prod");
        assert_eq!(redact_url("postgresql://app@db/prod"), "postgresql://app@db/prod");
        let r = redact_url("postgres://db/prod?user=app&password=s3cret&sslmode=require");
        assert!(!r.contains("s3cret") && r.contains("password=***&sslmode=require"), "{r}");
    }

    #[test]
    fn conninfo_loses_its_password() {
        assert_eq!(redact_url("host=db password=s3cret dbname=prod"), "host=db password=*** dbname=prod");
        assert_eq!(redact_url("host=db password='a b\\'c' dbname=prod"), "host=db password=*** dbname=prod");
        assert_eq!(redact_text("nothing secret here"), "nothing secret here");
        assert_eq!(redact_text("mypassword=x"), "mypassword=x");
    }
}
