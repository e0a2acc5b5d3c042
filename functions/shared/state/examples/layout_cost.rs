//! Measures what the checkpoint store costs a poll cycle under three key
//! layouts — the one `updraft-state` uses and two it rejected — for the
//! issue's scenario: 20 repositories × 300 tags, newest-build (metadata
//! needed for every tag).
//!
//! ```sh
//! cargo run -p updraft-state --example layout_cost                 # memory://
//! cargo run -p updraft-state --example layout_cost -- 's3://bkt/p?endpoint=http://127.0.0.1:PORT&allow_http=true'
//! ```
//! Credentials come from the environment (AWS_* / ALIBABA_CLOUD_*).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use updraft_state::{
    Document, ImageMetadata, Key, RepoCache, RepositoryDocument, RequestStats, StateStore, keys,
};

const REPOS: usize = 20;
const TAGS: usize = 300;
const HOST: &str = "registry.example.com";

#[derive(Clone, Copy, Debug)]
enum Layout {
    /// `…/cache.json`: tags and digest metadata in one document (chosen).
    OneDocument,
    /// `…/tags.json` + `…/images.json`.
    TwoDocuments,
    /// `…/tags.json` + `…/blobs/<digest>.json` per digest.
    ObjectPerDigest,
}

#[derive(Serialize, Deserialize, Clone, PartialEq)]
struct Blob(ImageMetadata);
impl Document for Blob {
    const KIND: &'static str = "ImageMetadata";
}

fn digest(repo: usize, i: usize) -> String {
    format!("sha256:{repo:032x}{i:032x}")
}

fn meta(i: usize) -> ImageMetadata {
    ImageMetadata {
        created: Some(1_700_000_000_000_000_000 + i as i64 * 1_000_000_000),
        platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
        labels: BTreeMap::from([(
            "org.opencontainers.image.revision".into(),
            format!("{i:040x}"),
        )]),
        created_by_platform: BTreeMap::new(),
    }
}

fn sibling(repo: &str, name: &str) -> Key {
    let mut parts = keys::repository_cache(HOST, repo).unwrap().parts().to_vec();
    parts.pop();
    parts.push(name.to_string());
    Key::new(parts).unwrap()
}

/// One cycle over every repository; `extra` adds a tag to repository 0.
async fn cycle(
    layout: Layout,
    store: &StateStore,
    extra: bool,
    now: i64,
) -> (RequestStats, Duration, usize) {
    let before = store.stats();
    let started = Instant::now();
    let mut fetched = 0;
    for r in 0..REPOS {
        let repo = format!("team/app{r}");
        let mut listing: Vec<String> = (0..TAGS).map(|i| format!("1.{i}.0")).collect();
        if extra && r == 0 {
            listing.push("9.9.9".into());
        }
        match layout {
            Layout::OneDocument => {
                let mut cache = store.load_repository(HOST, &repo).await.unwrap();
                cache.record_tags(&listing, now);
                for (i, tag) in listing.iter().enumerate() {
                    if cache.needs_metadata(tag) {
                        fetched += 1;
                        cache.record_digest(tag, &digest(r, i), now);
                        cache.record_metadata(&digest(r, i), meta(i));
                    }
                }
                store.save_repository(&mut cache).await.unwrap();
            }
            Layout::TwoDocuments => {
                let (tk, ik) = (sibling(&repo, "tags.json"), sibling(&repo, "images.json"));
                let tags = store.read::<RepositoryDocument>(&tk).await.unwrap();
                let images = store.read::<RepositoryDocument>(&ik).await.unwrap();
                let mut t = tags.value.clone().unwrap_or_default();
                let mut im = images.value.clone().unwrap_or_default();
                let mut cache = RepoCache::empty(HOST, &repo).unwrap();
                for (i, tag) in listing.iter().enumerate() {
                    if !t.tags.contains_key(tag) {
                        cache.record_tags([tag], now);
                        cache.record_digest(tag, &digest(r, i), now);
                        t.tags.insert(tag.clone(), cache.tag(tag).unwrap().clone());
                    }
                    let d = t.tags[tag].digest.clone().unwrap();
                    if let std::collections::btree_map::Entry::Vacant(e) = im.images.entry(d) {
                        fetched += 1;
                        e.insert(meta(i));
                    }
                }
                if tags.value.as_ref() != Some(&t) {
                    store.save_merged(&tk, t, tags.version).await.unwrap();
                }
                if images.value.as_ref() != Some(&im) {
                    store.save_merged(&ik, im, images.version).await.unwrap();
                }
            }
            Layout::ObjectPerDigest => {
                let tk = sibling(&repo, "tags.json");
                let tags = store.read::<RepositoryDocument>(&tk).await.unwrap();
                let mut t = tags.value.clone().unwrap_or_default();
                let mut cache = RepoCache::empty(HOST, &repo).unwrap();
                for (i, tag) in listing.iter().enumerate() {
                    if !t.tags.contains_key(tag) {
                        cache.record_tags([tag], now);
                        cache.record_digest(tag, &digest(r, i), now);
                        t.tags.insert(tag.clone(), cache.tag(tag).unwrap().clone());
                    }
                    let d = t.tags[tag].digest.clone().unwrap();
                    let bk = sibling(&repo, &format!("blobs/{d}.json").replace('/', "_"));
                    if store.read::<Blob>(&bk).await.unwrap().value.is_none() {
                        fetched += 1;
                        store.overwrite(&bk, &Blob(meta(i))).await.unwrap();
                    }
                }
                if tags.value.as_ref() != Some(&t) {
                    store.save_merged(&tk, t, tags.version).await.unwrap();
                }
            }
        }
    }
    (store.stats().since(&before), started.elapsed(), fetched)
}

#[tokio::main]
async fn main() {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "memory://".into());
    println!("store: {base}\nscenario: {REPOS} repositories x {TAGS} tags, newest-build\n");
    println!(
        "{:<20} {:>26} {:>26} {:>26} {:>12}",
        "layout", "cold (GET/PUT, ms)", "warm (GET/PUT, ms)", "+1 tag (GET/PUT, ms)", "stored KiB"
    );
    for (n, layout) in [
        Layout::OneDocument,
        Layout::TwoDocuments,
        Layout::ObjectPerDigest,
    ]
    .into_iter()
    .enumerate()
    {
        // A fresh prefix (or memory store) per layout; a fresh client per
        // cycle, as a new process would have.
        let url = if base == "memory://" {
            format!("memory://layout-{n}")
        } else if let Some((head, query)) = base.split_once('?') {
            format!("{head}/layout-{n}-{}?{query}", std::process::id())
        } else {
            format!("{base}/layout-{n}-{}", std::process::id())
        };
        let mut cells = Vec::new();
        let mut stored = 0;
        for (i, extra) in [false, false, true].into_iter().enumerate() {
            let store = StateStore::open(&url).unwrap();
            let (stats, took, fetched) =
                cycle(layout, &store, extra, 1_764_000_000_000_000_000 + i as i64).await;
            if i == 0 {
                stored = stats.bytes_written;
                assert_eq!(fetched, REPOS * TAGS);
            }
            cells.push(format!(
                "{:>5}/{:<5} {:>7.0} ms",
                stats.gets,
                stats.puts,
                took.as_secs_f64() * 1000.0
            ));
        }
        println!(
            "{:<20} {:>26} {:>26} {:>26} {:>12}",
            format!("{layout:?}"),
            cells[0],
            cells[1],
            cells[2],
            stored / 1024
        );
    }
}
