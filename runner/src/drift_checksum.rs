//! The checksums migration tools store in their history tables, computed the way each tool
//! computes them, so that a comparison says what the tool itself would say.

use sha2::{Digest, Sha384};

/// Flyway's checksum of a SQL migration: CRC-32 over the file's lines with their line
/// terminators removed (`\n`, `\r\n` and `\r` end a line, as `BufferedReader.readLine` reads
/// them), a byte order mark removed from the first line, the result read as a signed 32-bit
/// integer (the `checksum` column of `flyway_schema_history`). Line endings and empty lines do
/// not change it. The file is read as UTF-8 (Flyway's default encoding).
pub fn flyway(bytes: &[u8]) -> i32 {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut crc = crc32fast::Hasher::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(i) => {
                crc.update(&rest.as_bytes()[..i]);
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                crc.update(rest.as_bytes());
                rest = "";
            }
        }
    }
    // Java's `(int) crc32.getValue()`: the same 32 bits, read as signed.
    crc.finalize() as i32
}

/// sqlx's checksum: SHA-384 of the migration file's bytes (the `checksum` column of
/// `_sqlx_migrations`).
pub fn sqlx(bytes: &[u8]) -> Vec<u8> {
    Sha384::digest(bytes).to_vec()
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flyway_checksum_is_crc32_of_the_lines() {
        // CRC-32 of "123456789" is the published check value 0xCBF43926.
        assert_eq!(flyway(b"123456789"), 0xCBF4_3926_u32 as i32);
        assert_eq!(flyway(b"123456789"), -873_187_034);
        // Line terminators, empty lines and a BOM are not part of it.
        assert_eq!(flyway(b"123\n456\r\n789\n"), -873_187_034);
        assert_eq!(flyway(b"123\r456\n\n\r\n789"), -873_187_034);
        assert_eq!(flyway("\u{feff}123456789\n".as_bytes()), -873_187_034);
        // Any other byte does.
        assert_ne!(flyway(b"123 456789"), -873_187_034);
        assert_eq!(flyway(b""), 0);
    }

    #[test]
    fn sqlx_checksum_is_sha384_of_the_bytes() {
        // FIPS 180-2 test vector for SHA-384("abc").
        assert_eq!(
            hex(&sqlx(b"abc")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7"
        );
    }
}
