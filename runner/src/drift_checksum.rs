//! The checksums migration tools store in their history tables, computed the way each tool
//! computes them, so that a comparison says what the tool itself would say.

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha384};

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

/// Prisma's checksum: SHA-256 of `migration.sql`, lower-case hexadecimal (the `checksum` column of
/// `_prisma_migrations`).
pub fn prisma(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Whether `recorded` is a checksum Prisma accepts for `bytes`: the SHA-256 of the file as it is,
/// with its line endings turned into `\n` or into `\r\n` (a checkout on another system), each
/// in the current format or the older one that wrote every byte without its leading zero.
pub fn prisma_matches(recorded: &str, bytes: &[u8]) -> bool {
    let recorded = recorded.trim();
    let lf = to_lf(bytes);
    let crlf: Vec<u8> = lf.iter().flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] }).collect();
    [bytes, lf.as_slice(), crlf.as_slice()].iter().any(|v| {
        let digest = Sha256::digest(v);
        hex(&digest) == recorded || digest.iter().map(|b| format!("{b:x}")).collect::<String>() == recorded
    })
}

/// `\r\n` turned into `\n`.
fn to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Atlas's per-file hashes (the `atlas.sum` lines and the `hash` column of
/// `atlas_schema_revisions`): one SHA-256 runs over every file of the directory in order, its
/// name then its bytes; after each file the digest so far, in standard base64, is that file's
/// hash. A file's hash therefore covers it and every file before it. `files` are (name, bytes)
/// in the directory's order.
pub fn atlas_hashes(files: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut h = Sha256::new();
    files
        .iter()
        .map(|(name, bytes)| {
            h.update(name.as_bytes());
            h.update(bytes);
            base64::engine::general_purpose::STANDARD.encode(h.clone().finalize())
        })
        .collect()
}

/// The total on the first line of `atlas.sum` (after `h1:`): SHA-256 over each file's name and
/// hash, in standard base64.
pub fn atlas_total(files: &[(String, Vec<u8>)]) -> String {
    let mut h = Sha256::new();
    for ((name, _), hash) in files.iter().zip(atlas_hashes(files)) {
        h.update(name.as_bytes());
        h.update(hash.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
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

    #[test]
    fn prisma_checksum_is_sha256_hex_in_either_line_ending_and_the_old_format() {
        // SHA-256("hello"), as `shasum -a 256` prints it, and as Prisma wrote it before it
        // padded each byte to two digits (the zeros of 0x0e and 0x04 missing).
        let full = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let unpadded = "2cf24dba5fb0a3e26e83b2ac5b9e29e1b161e5c1fa7425e7343362938b9824";
        assert_eq!(prisma(b"hello"), full);
        assert!(prisma_matches(full, b"hello"));
        assert!(prisma_matches(unpadded, b"hello"));
        assert!(!prisma_matches(full, b"hello!"));
        // Applied from a checkout with LF endings, compared on one with CRLF endings, and back.
        let lf = b"CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n";
        let crlf = b"CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n";
        assert!(prisma_matches(&prisma(lf), crlf));
        assert!(prisma_matches(&prisma(crlf), lf));
        assert!(!prisma_matches(&prisma(lf), b"CREATE TABLE a (id int);\n"));
    }

    #[test]
    fn atlas_hashes_match_a_published_atlas_sum() {
        // A migration directory of Atlas's own end-to-end tests: one file, and its atlas.sum
        // "h1:vefBQWShy7/4OI7C1NqFH9y2PtGtOUS5zFQ1492XitE=\n20240112070806.sql h1:nhoPxDs1H3UH6aEpy1qJ6Bj6zbFRt61sB4ndi0sx7zw=".
        let files = vec![("20240112070806.sql".to_string(), b"CREATE TABLE t1(c1 int);\n".to_vec())];
        assert_eq!(atlas_hashes(&files), ["nhoPxDs1H3UH6aEpy1qJ6Bj6zbFRt61sB4ndi0sx7zw="]);
        assert_eq!(atlas_total(&files), "vefBQWShy7/4OI7C1NqFH9y2PtGtOUS5zFQ1492XitE=");
        // A file's hash covers the files before it: editing the first changes both.
        let two = vec![files[0].clone(), ("20240113000000.sql".to_string(), b"SELECT 1;\n".to_vec())];
        let edited =
            vec![("20240112070806.sql".to_string(), b"CREATE TABLE t1(c1 bigint);\n".to_vec()), two[1].clone()];
        let (a, b) = (atlas_hashes(&two), atlas_hashes(&edited));
        assert_eq!(a[0], "nhoPxDs1H3UH6aEpy1qJ6Bj6zbFRt61sB4ndi0sx7zw=");
        assert!(a[0] != b[0] && a[1] != b[1]);
        // Renaming a file changes it too: the name is hashed.
        let renamed = vec![("20240112070807.sql".to_string(), files[0].1.clone())];
        assert_ne!(atlas_hashes(&renamed), atlas_hashes(&files));
    }
}
