//! `--online`: OSV's batch query API (opt-in). It sends, for each installed package, its name,
//! version and ecosystem (e.g. `Debian:12`) to the API; never host names, addresses or
//! anything else. The full records of the returned IDs are then fetched and evaluated locally
//! with the same rules as offline data.

use super::{Advisory, MemoryIndex, Record};
use crate::scan::ScanError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;

/// Overrides the API's base URL. For tests only: they point it at a fake server on loopback.
pub const API_URL_ENV: &str = "LUMEN_OSV_API_URL";
pub const DEFAULT_API_URL: &str = "https://api.osv.dev";
/// OSV accepts at most 1000 queries per batch.
const BATCH: usize = 1000;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Records fetched at once.
const PARALLEL_FETCHES: usize = 8;

/// One package to ask about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Query {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
}

#[derive(Serialize)]
struct BatchQuery<'a> {
    package: PackageQ<'a>,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_token: Option<&'a str>,
}

#[derive(Serialize)]
struct PackageQ<'a> {
    name: &'a str,
    ecosystem: &'a str,
}

#[derive(Serialize)]
struct Batch<'a> {
    queries: Vec<BatchQuery<'a>>,
}

#[derive(Deserialize)]
struct BatchResponse {
    #[serde(default)]
    results: Vec<BatchResult>,
}

#[derive(Deserialize, Default)]
struct BatchResult {
    #[serde(default)]
    vulns: Vec<VulnRef>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct VulnRef {
    id: String,
}

/// The API base URL: [`API_URL_ENV`] when set, else OSV's.
pub fn api_url() -> String {
    std::env::var(API_URL_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_API_URL.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// Ask the API which advisories affect `queries`, fetch them, and index them.
pub async fn fetch(queries: &[Query]) -> Result<MemoryIndex, ScanError> {
    fetch_from(&api_url(), queries).await
}

/// [`fetch`] from the API at `base` (e.g. `https://api.osv.dev`).
pub async fn fetch_from(base: &str, queries: &[Query]) -> Result<MemoryIndex, ScanError> {
    let base = base.trim_end_matches('/').to_string();
    let fail = |why: String| ScanError::Online {
        url: base.clone(),
        why,
    };
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("lumen/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut ids = BTreeSet::new();
    for chunk in queries.chunks(BATCH) {
        let mut pending: Vec<(&Query, Option<String>)> = chunk.iter().map(|q| (q, None)).collect();
        while !pending.is_empty() {
            let body = Batch {
                queries: pending
                    .iter()
                    .map(|(q, token)| BatchQuery {
                        package: PackageQ {
                            name: &q.name,
                            ecosystem: &q.ecosystem,
                        },
                        version: &q.version,
                        page_token: token.as_deref(),
                    })
                    .collect(),
            };
            let response: BatchResponse = client
                .post(format!("{base}/v1/querybatch"))
                .json(&body)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| fail(e.to_string()))?
                .json()
                .await
                .map_err(|e| fail(format!("unexpected answer: {e}")))?;
            let mut next = Vec::new();
            for ((q, _), result) in pending.iter().zip(response.results) {
                ids.extend(result.vulns.into_iter().map(|v| v.id));
                if let Some(token) = result.next_page_token.filter(|t| !t.is_empty()) {
                    next.push((*q, Some(token)));
                }
            }
            pending = next;
        }
    }
    let mut index = MemoryIndex::default();
    let ids: Vec<String> = ids.into_iter().collect();
    for chunk in ids.chunks(PARALLEL_FETCHES) {
        let fetches = chunk.iter().map(|id| {
            let url = format!("{base}/v1/vulns/{id}");
            let client = client.clone();
            async move {
                let r = client
                    .get(&url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status());
                match r {
                    Ok(r) => r.json::<Record>().await.map_err(|e| format!("{id}: {e}")),
                    Err(e) => Err(format!("{id}: {e}")),
                }
            }
        });
        for record in futures::future::join_all(fetches).await {
            index.insert(Advisory::from_record(record.map_err(fail)?));
        }
    }
    Ok(index)
}
