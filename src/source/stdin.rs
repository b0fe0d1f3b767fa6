//! Reads a stream (`-` = standard input, e.g. `kubectl logs -f | pgconn-top -`) and sends complete-line batches.

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use super::follow::{Closed, Out};
use super::{SourceId, SourceMsg, MAX_BATCH};

/// Size of one read from the stream.
const READ_SIZE: usize = 256 << 10;

/// Reads `reader` to its end, sending complete lines as they arrive.
///
/// Sends `CaughtUp { bytes: 0 }` first (a stream has no replay phase). At end of stream a last
/// line without '\n' is sent with one added, followed by a `Status` saying the stream ended.
pub async fn follow_reader<R: AsyncRead + Unpin>(
    id: SourceId,
    reader: R,
    tx: mpsc::Sender<SourceMsg>,
) {
    let mut out = Out::new(id, tx);
    let _ = run(&mut out, reader).await;
}

async fn run<R: AsyncRead + Unpin>(out: &mut Out, reader: R) -> Result<(), Closed> {
    out.caught_up(0).await?;
    match pump(out, reader).await? {
        Ok(()) => {
            out.status("standard input ended; no more lines will arrive".to_string())
                .await
        }
        Err(e) => {
            out.status(format!(
                "cannot read standard input: {e}; check the command piped into pgconn-top"
            ))
            .await
        }
    }
}

/// Reads `reader` to its end, sending complete lines as they arrive; a last line without '\n'
/// is sent with one added. The inner result is how the stream ended (its end, or a read error).
pub(crate) async fn pump<R: AsyncRead + Unpin>(
    out: &mut Out,
    mut reader: R,
) -> Result<std::io::Result<()>, Closed> {
    let mut buf: Vec<u8> = Vec::with_capacity(READ_SIZE * 2);
    let mut chunk = vec![0u8; READ_SIZE];
    loop {
        let n = match reader.read(&mut chunk).await {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if !buf.is_empty() {
                    buf.push(b'\n');
                    out.lines(buf).await?;
                }
                return Ok(Err(e));
            }
        };
        if n == 0 {
            if !buf.is_empty() {
                buf.push(b'\n');
                out.lines(buf).await?;
            }
            return Ok(Ok(()));
        }
        let old_len = buf.len();
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = memchr::memrchr(b'\n', &buf[old_len..]) {
            let rest = buf.split_off(old_len + i + 1);
            let lines = std::mem::replace(&mut buf, rest);
            out.lines(lines).await?;
        } else if buf.len() > MAX_BATCH * 8 {
            // Safety valve against an endless "line": pass it on.
            buf.push(b'\n');
            out.lines(std::mem::take(&mut buf)).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn stream_lines_split_anywhere_arrive_whole() {
        let (mut w, r) = tokio::io::duplex(64);
        let (tx, mut rx) = mpsc::channel(64);
        let task = tokio::spawn(follow_reader(3, r, tx));
        let writer = tokio::spawn(async move {
            for piece in [&b"li"[..], b"ne 1\nline", b" 2\n\xff\xfe3\nta", b"il"] {
                w.write_all(piece).await.unwrap();
                w.flush().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        });
        let mut got = Vec::new();
        let mut status = None;
        while let Some(m) = rx.recv().await {
            match m {
                SourceMsg::Lines { source, bytes } => {
                    assert_eq!(source, 3);
                    assert_eq!(bytes.last(), Some(&b'\n'));
                    got.extend(bytes);
                }
                SourceMsg::Status { message, .. } => status = Some(message),
                _ => {}
            }
        }
        writer.await.unwrap();
        task.await.unwrap();
        assert_eq!(got, b"line 1\nline 2\n\xff\xfe3\ntail\n");
        assert!(status.unwrap().contains("standard input ended"));
    }
}
