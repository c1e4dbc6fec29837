//! A tiny authoritative DNS server on 127.0.0.1 for the domain-verification tests: it answers TXT
//! questions from a table the test fills and NXDOMAIN for every other name (RFC 1035 wire format,
//! UDP, one question per message).

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::net::UdpSocket;

#[derive(Clone)]
pub struct DnsServer {
    pub addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<String>>>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

impl DnsServer {
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let records: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let table = records.clone();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let reply = answer(&buf[..n], &table.lock().unwrap());
                if let Some(answer) = reply {
                    let _ = socket.send_to(&answer, peer).await;
                }
            }
        });
        Self {
            addr,
            records,
            task: Arc::new(task),
        }
    }

    /// Publishes a TXT record at `name` (besides those there already).
    pub fn add_txt(&self, name: &str, value: &str) {
        self.records
            .lock()
            .unwrap()
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(value.to_owned());
    }
}

/// The reply to one query: the TXT records of its name, or NXDOMAIN.
fn answer(query: &[u8], table: &HashMap<String, Vec<String>>) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    let mut labels = Vec::new();
    let mut i = 12;
    loop {
        let len = usize::from(*query.get(i)?);
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let question = query.get(12..i + 4)?;
    let qtype = u16::from_be_bytes([query[i], query[i + 1]]);
    let found = table.get(&labels.join("."));
    let txts: &[String] = match (found, qtype) {
        (Some(v), 16) => v,
        _ => &[],
    };
    let mut out = Vec::new();
    out.extend_from_slice(&query[..2]);
    // QR, opcode 0, AA, RD as asked; RA; RCODE 3 (NXDOMAIN) for names without records.
    let rcode = if found.is_none() { 3 } else { 0 };
    out.extend_from_slice(&[0x84 | (query[2] & 0x01), 0x80 | rcode]);
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&u16::try_from(txts.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(question);
    for txt in txts {
        let mut rdata = Vec::new();
        for chunk in txt.as_bytes().chunks(255) {
            rdata.push(u8::try_from(chunk.len()).unwrap());
            rdata.extend_from_slice(chunk);
        }
        out.extend_from_slice(&[0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0, 0]);
        out.extend_from_slice(&u16::try_from(rdata.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}
