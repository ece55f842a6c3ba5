//! The benchmark's own HTTP server, on 127.0.0.1:0: the smallest server that can answer a
//! chained step, so that what is left of a step's time is the client's.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;

/// What the server holds.
#[derive(Clone)]
struct Shared {
    /// The big JSON document, built once (cloning `Bytes` shares it).
    big: Bytes,
}

/// Serves until the runtime it was spawned on stops.
pub async fn start(big: Bytes) -> SocketAddr {
    let app = Router::new()
        .route("/items/{id}", get(item))
        .route("/big", get(big_json))
        .with_state(Shared { big });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("cannot listen on 127.0.0.1:0");
    let addr = listener.local_addr().expect("no local address");
    tokio::spawn(async move {
        // An accept error ends the server; the next request then fails loudly.
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// `GET /items/{id}`: a small JSON naming the next item. The `X-Prev` header must repeat the
/// id (a chained step templates both from the previous capture), or the answer is a 400.
async fn item(Path(id): Path<u64>, headers: HeaderMap) -> Response {
    let prev = headers.get("x-prev").and_then(|v| v.to_str().ok());
    if prev != Some(id.to_string().as_str()) {
        return (StatusCode::BAD_REQUEST, "x-prev does not match the id").into_response();
    }
    let body = format!(
        r#"{{"id":{id},"next":{},"ok":true,"name":"item-{id}"}}"#,
        id + 1
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn big_json(State(s): State<Shared>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], s.big.clone()).into_response()
}

/// A JSON document of at least `min_len` bytes shaped like a typical list response: many
/// small records. Returns the text and the number of records.
pub fn big_document(min_len: usize) -> (Bytes, usize) {
    use std::fmt::Write;
    let mut items = String::with_capacity(min_len + 4096);
    let mut count = 0usize;
    while items.len() < min_len {
        if count > 0 {
            items.push(',');
        }
        let _ = write!(
            items,
            r#"{{"id":{count},"name":"item-{count:07}","price":{}.{:02},"active":{},"tags":["red","large"],"owner":{{"id":{},"region":"eu-west-1"}}}}"#,
            count % 1000,
            count % 100,
            count % 3 == 0,
            count % 977
        );
        count += 1;
    }
    // A paging token, as list responses have: the masker walks bodies with a key that looks
    // like a secret.
    let doc = format!(r#"{{"total":{count},"next_page_token":"pg-8f2c41d9","items":[{items}]}}"#);
    (Bytes::from(doc), count)
}
