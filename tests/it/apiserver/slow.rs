//! Answers delivered badly on purpose: a body trickled out a few bytes at a time, or cut off
//! halfway with the connection closed (the headers promise the whole length).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;

use super::{Body, Fault};

/// Bytes per trickled chunk.
const CHUNK: usize = 16;

/// `response` as the fault delivers it (unchanged unless it trickles or truncates).
pub(super) async fn deliver(response: Response<Body>, fault: &Fault) -> Response<Body> {
    if fault.trickle.is_none() && !fault.truncate {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = super::http::body_bytes(body).await;
    parts.headers.insert(
        hyper::header::CONTENT_LENGTH,
        bytes.len().to_string().parse().expect("length header"),
    );
    let body = match fault.trickle {
        Some(every) => {
            let chunks: Vec<Bytes> = bytes.chunks(CHUNK).map(Bytes::copy_from_slice).collect();
            let stream = futures::stream::unfold(chunks.into_iter(), move |mut rest| async move {
                let chunk = rest.next()?;
                tokio::time::sleep(every).await;
                Some((Ok::<_, Infallible>(Frame::data(chunk)), rest))
            });
            StreamBody::new(stream).boxed()
        }
        // Half the body, then the stream ends short of Content-Length: hyper closes the connection.
        None => {
            let half = bytes.slice(..bytes.len() / 2);
            // The pause lets hyper flush the headers and the half before the body ends short.
            let stream = futures::stream::unfold(Some(half), |half| async move {
                match half {
                    Some(half) => Some((Ok::<_, Infallible>(Frame::data(half)), None)),
                    None => {
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        None
                    }
                }
            });
            StreamBody::new(stream).boxed()
        }
    };
    Response::from_parts(parts, body)
}
