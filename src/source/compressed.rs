//! Compressed logs (`.gz`, `.bz2`, `.zst`, `.xz`) read transparently, recognized by their
//! magic bytes (not only their name); and rotated names put oldest first
//! (`x.log.3.gz`, `x.log.2.gz`, `x.log.1`, then the live `x.log`).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// How a file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (every member of a multi-member file is read).
    Gzip,
    /// bzip2 (every stream).
    Bzip2,
    /// Zstandard (every frame).
    Zstd,
    /// xz (every stream).
    Xz,
}

/// The compression the first bytes of a file announce.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(b"BZh") {
        Compression::Bzip2
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Compression::Xz
    } else {
        Compression::None
    }
}

/// The compression named by a file's extension.
fn by_extension(path: &Path) -> Compression {
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => Compression::Gzip,
        Some("bz2") => Compression::Bzip2,
        Some("zst") => Compression::Zstd,
        Some("xz") => Compression::Xz,
        _ => Compression::None,
    }
}

/// Reads up to 6 bytes from the start of `f` and rewinds it.
fn head_of(f: &mut File) -> io::Result<Compression> {
    let mut head = [0u8; 6];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    f.seek(SeekFrom::Start(0))?;
    Ok(sniff(&head[..n]))
}

/// The compression of the file at `path`, by its magic bytes (by its name when unreadable).
pub fn compression_of(path: &Path) -> Compression {
    match File::open(path).and_then(|mut f| head_of(&mut f)) {
        Ok(c) => c,
        Err(_) => by_extension(path),
    }
}

/// Whether the file at `path` is compressed (by magic bytes, or its name when unreadable).
pub fn is_compressed(path: &Path) -> bool {
    compression_of(path) != Compression::None
}

/// Opens a log for reading: a decompressing reader for a compressed file (multi-member gzip,
/// as logrotate with `delaycompress` leaves it, read whole), the file itself otherwise.
pub fn open_log(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let mut f = File::open(path)?;
    let c = head_of(&mut f)?;
    let buffered = || BufReader::with_capacity(256 << 10, f);
    Ok(match c {
        Compression::None => return Ok(Box::new(File::open(path)?)),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered())),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(buffered())),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered())?),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(buffered())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn every_format_reads_back_whole_including_multi_member_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"2026-11-27 20:21:03.010 CET [4132] LOG:  starting\n".repeat(50);
        let gz = |data: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let mut multi = gz(&text[..1000]);
        multi.extend(gz(&text[1000..]));
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&text).unwrap();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(&text).unwrap();
        let cases: [(&str, Vec<u8>); 5] = [
            ("a.log.2.gz", multi),
            ("a.log.3", bz.finish().unwrap()),
            ("a.zst", zstd::encode_all(&text[..], 1).unwrap()),
            ("a.xz.txt", xz.finish().unwrap()),
            ("plain.log.gz", text.clone()),
        ];
        for (name, data) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, &data).unwrap();
            let mut got = Vec::new();
            open_log(&p).unwrap().read_to_end(&mut got).unwrap();
            assert_eq!(got, text, "{name}");
            assert_eq!(is_compressed(&p), name != "plain.log.gz", "{name}");
        }
    }
}
