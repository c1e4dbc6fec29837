//! Bodies stream through the gateway: the caller reads the start of an answer while the upstream
//! is still writing it (a gateway that buffered would wait for the end, and this test would time
//! out).

use std::{sync::Arc, time::Duration};

use axum::http::Method;
use gatehouse_domain::{audit::Actor, audit::AuditEntry, service::ServiceCode};
use gatehouse_store::{AuditStore, ServiceStore};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::Notify,
};

use super::{SCOPE, World};

#[tokio::test]
async fn an_answer_streams_to_the_caller_while_the_upstream_is_still_writing_it() {
    let w = World::new().await;
    // An upstream that sends the first chunk, then waits to be told before it finishes.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let finish = Arc::new(Notify::new());
    let told = finish.clone();
    let upstream = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            assert!(n > 0, "the request head arrives");
            head.extend_from_slice(&buf[..n]);
        }
        sock.write_all(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n5\r\nfirst\r\n",
        )
        .await
        .unwrap();
        sock.flush().await.unwrap();
        told.notified().await;
        sock.write_all(b"6\r\nsecond\r\n0\r\n\r\n").await.unwrap();
        sock.flush().await.unwrap();
    });
    let now = w.server.state().now();
    let mut tx = w.server.store().begin().await.unwrap();
    let mut docs = tx
        .service_by_code(&ServiceCode::parse("docs").unwrap())
        .await
        .unwrap()
        .unwrap();
    docs.upstream_url = Some(format!("http://{addr}/base"));
    tx.upsert_service(&docs).await.unwrap();
    tx.append_audit(&AuditEntry::new(now, &Actor::System, "service.updated", "test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let token = w.token(&w.sa, SCOPE).await;
    let c = w.server.new_client();
    let mut res = c
        .request(Method::GET, "/services/docs/feed")
        .header("x-api-key", &w.sa.client_id)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let first = tokio::time::timeout(Duration::from_secs(10), res.chunk())
        .await
        .expect("the first chunk arrives while the upstream still holds the rest")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"first");
    finish.notify_one();
    let mut rest = Vec::new();
    while let Some(chunk) = res.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"second");
    upstream.await.unwrap();
}
