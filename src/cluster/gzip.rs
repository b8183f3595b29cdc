//! Gzipped answers the client inflates itself. kube-apiserver gzips any answer of 128 KiB or
//! more to a client that accepts it, so pod LIST pages come gzipped. The client stack's
//! decompression layer (tower-http's, ours: `connect::client`) inflates the answers kube reads;
//! the requests `client::read_body` makes are marked [`InflateHere`], [`HandOff`] (below that
//! layer) takes their `Content-Encoding` off so it passes them through, and [`inflate`] reads
//! them straight into the page buffer: no copy between the decoder's chunks and the buffer, and
//! the CRC-32 checked with crc32fast (the decoder's CRC was 47% of the worker thread at 10k
//! pods, docs/benchmarks.md).

use std::task::{Context, Poll};

use flate2::{Decompress, FlushDecompress, Status};
use futures::TryFutureExt;
use futures::future::MapOk;
use http::{Request, Response, header};
use tower::{Layer, Service};

/// On a request: its body is read by the caller, who inflates a gzipped one ([`inflate`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct InflateHere;

/// On a response to an [`InflateHere`] request: its body is gzipped (the `Content-Encoding`
/// header that said so was taken off), and as long as its `Content-Length` said, if it did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StillGzipped(pub(crate) Option<usize>);

/// The layer right under the decompression layer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HandOffLayer;

impl<S> Layer<S> for HandOffLayer {
    type Service = HandOff<S>;

    fn layer(&self, inner: S) -> HandOff<S> {
        HandOff { inner }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct HandOff<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HandOff<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = MapOk<S::Future, fn(Response<ResBody>) -> Response<ResBody>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let answer: fn(Response<ResBody>) -> Response<ResBody> =
            match req.extensions().get::<InflateHere>() {
                Some(_) => hand_off,
                None => std::convert::identity,
            };
        self.inner.call(req).map_ok(answer)
    }
}

/// A gzipped answer marked as such instead of labelled, so the decompression layer above
/// passes it through (it matches the label exactly, as here).
fn hand_off<B>(mut answer: Response<B>) -> Response<B> {
    let headers = answer.headers_mut();
    if headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|e| e.as_bytes() == b"gzip")
    {
        headers.remove(header::CONTENT_ENCODING);
        let length = headers.remove(header::CONTENT_LENGTH);
        let length = length.and_then(|l| l.to_str().ok()?.parse().ok());
        answer.extensions_mut().insert(StillGzipped(length));
    }
    answer
}

/// Inflates a gzip body (RFC 1952; one member or several in a row, as Go's reader takes them)
/// onto the end of `out`, each member's CRC-32 and length checked, and stops with an error once
/// `out` would hold more than `limit` bytes (a small body can inflate to any size). The error
/// says what is wrong.
pub(crate) fn inflate(mut gz: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), String> {
    loop {
        let data = member_header(gz)?;
        let start = out.len();
        let used = inflate_raw(&gz[data..], out, limit)?;
        let trailer = gz
            .get(data + used..data + used + 8)
            .ok_or("the gzip body ends before its trailer")?;
        let word = |at: usize| u32::from_le_bytes(trailer[at..at + 4].try_into().unwrap());
        if crc32fast::hash(&out[start..]) != word(0) {
            return Err("the gzip body does not match its CRC-32".into());
        }
        // ISIZE is the length modulo 2^32.
        if (out.len() - start) as u32 != word(4) {
            return Err("the gzip body does not match its recorded length".into());
        }
        gz = &gz[data + used + 8..];
        if gz.is_empty() {
            return Ok(());
        }
    }
}

/// The length of the member header at the front of `gz`.
fn member_header(gz: &[u8]) -> Result<usize, String> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    const RESERVED: u8 = 0xe0;
    let short = || "the gzip body ends inside its header".to_string();
    let fixed = gz.get(..10).ok_or_else(short)?;
    if fixed[..2] != [0x1f, 0x8b] {
        return Err("the body is labelled gzip but is not gzip".into());
    }
    if fixed[2] != 8 {
        return Err(format!(
            "gzip compression method {} is not deflate",
            fixed[2]
        ));
    }
    let flags = fixed[3];
    if flags & RESERVED != 0 {
        return Err("the gzip header sets reserved flags".into());
    }
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let len = gz.get(at..at + 2).ok_or_else(short)?;
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for field in [FNAME, FCOMMENT] {
        if flags & field != 0 {
            let rest = gz.get(at..).ok_or_else(short)?;
            at += memchr::memchr(0, rest).ok_or_else(short)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    if at > gz.len() {
        return Err(short());
    }
    Ok(at)
}

/// Inflates the raw deflate stream at the front of `data` onto `out`, up to `limit` bytes in
/// `out`; returns how many bytes of `data` it took.
fn inflate_raw(data: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<usize, String> {
    let mut stream = Decompress::new(false);
    loop {
        // Checked between steps: a step writes at most the room reserved for it.
        if out.len() > limit {
            return Err(format!("it inflates to more than {limit} bytes"));
        }
        if out.capacity() - out.len() < 32 * 1024 {
            // Pages inflate to about ten times their gzipped size.
            out.reserve((data.len() * 4).max(256 * 1024));
        }
        let (taken, given) = (stream.total_in(), stream.total_out());
        let status = stream
            .decompress_vec(&data[taken as usize..], out, FlushDecompress::None)
            .map_err(|e| format!("the gzip body is corrupt ({e})"))?;
        if status == Status::StreamEnd {
            return Ok(stream.total_in() as usize);
        }
        if stream.total_in() == taken && stream.total_out() == given {
            // Room to write and nothing read: the input ran out before the stream's end.
            return Err("the gzip body ends before its data does".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn inflated(gz: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = b"kept:".to_vec();
        inflate(gz, &mut out, usize::MAX)?;
        Ok(out[5..].to_vec())
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| b"{\"name\":\"pod\"}, "[i % 16] ^ (i / 7 % 3) as u8)
            .collect()
    }

    #[test]
    fn a_body_inflates_onto_what_the_buffer_holds() {
        for n in [0, 1, 1000, 3 * 1024 * 1024] {
            let data = text(n);
            assert_eq!(inflated(&gzip(&data)).unwrap(), data, "{n} bytes");
        }
    }

    #[test]
    fn members_in_a_row_inflate_one_after_the_other() {
        let mut gz = gzip(b"first,");
        gz.extend(gzip(b"second"));
        assert_eq!(inflated(&gz).unwrap(), b"first,second");
    }

    #[test]
    fn header_fields_are_passed_over() {
        let mut builder = flate2::GzBuilder::new()
            .filename("pods.json")
            .comment("a comment")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::fast());
        builder.write_all(b"{}").unwrap();
        assert_eq!(inflated(&builder.finish().unwrap()).unwrap(), b"{}");
    }

    #[test]
    fn a_body_that_inflates_past_the_limit_stops_there() {
        // 64 MiB of zeros: 64 KiB gzipped.
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(&vec![0; 64 << 20]).unwrap();
        let bomb = e.finish().unwrap();
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        let mut out = Vec::new();
        let err = inflate(&bomb, &mut out, 1 << 20).unwrap_err();
        assert!(err.contains("more than 1048576 bytes"), "{err}");
        assert!(
            out.capacity() < 8 << 20,
            "stopped early: {}",
            out.capacity()
        );
        let mut out = Vec::new();
        inflate(&gzip(&text(1 << 20)), &mut out, 1 << 20).unwrap();
        assert_eq!(out.len(), 1 << 20, "the limit itself is allowed");
    }

    #[test]
    fn a_broken_body_is_an_error_that_says_what_is_wrong() {
        let gz = gzip(&text(100_000));
        let cut = |n: usize| inflated(&gz[..n]).unwrap_err();
        assert!(cut(5).contains("ends inside its header"), "{}", cut(5));
        assert!(cut(gz.len() / 2).contains("ends before its data"));
        assert!(cut(gz.len() - 3).contains("ends before its trailer"));
        let mut crc = gz.clone();
        let at = crc.len() - 8;
        crc[at] ^= 1;
        assert!(inflated(&crc).unwrap_err().contains("CRC-32"));
        let mut len = gz.clone();
        let at = len.len() - 1;
        len[at] ^= 1;
        assert!(inflated(&len).unwrap_err().contains("recorded length"));
        assert!(
            inflated(b"{\"kind\":\"PodList\"}")
                .unwrap_err()
                .contains("not gzip")
        );
        let mut garbage = gz.clone();
        garbage[12] ^= 0xff;
        garbage[13] ^= 0x55;
        assert!(inflated(&garbage).is_err());
    }
}
