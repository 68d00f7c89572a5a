//! `download_with` against a small HTTP/1.1 server on 127.0.0.1 started by
//! the test: good files, a truncated file, a cut-short response, a missing
//! file and a wrong checksum, each leaving no partial file behind.
#![cfg(feature = "download")]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use constnet_runtime::data::download::download_with;
use constnet_runtime::data::{DataError, Dataset, Mnist, encode_idx, read_idx_file};
use flate2::Compression;
use flate2::write::GzEncoder;

/// What the server answers for one path.
#[derive(Clone)]
enum Reply {
    /// 200 with this body.
    Ok(Vec<u8>),
    /// 200 announcing `announced` bytes, then sending `body` and closing.
    CutShort { body: Vec<u8>, announced: usize },
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 that stops on drop or after 60 s.
struct Server {
    base: String,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(routes: HashMap<String, Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}/files/", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (requests.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !halt.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        count.fetch_add(1, Ordering::Relaxed);
                        let _ = answer(stream, &routes);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Server {
            base,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request and writes the reply for its path (404 if none), then closes.
fn answer(mut stream: TcpStream, routes: &HashMap<String, Reply>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("");
    let name = path.rsplit('/').next().unwrap_or("");
    let (status, body, announced) = match routes.get(name) {
        Some(Reply::Ok(body)) => ("200 OK", body.clone(), body.len()),
        Some(Reply::CutShort { body, announced }) => ("200 OK", body.clone(), *announced),
        None => ("404 Not Found", b"not found".to_vec(), 9),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {announced}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A fresh scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("constnet-dl-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }

    /// The names of the files in the directory, sorted.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = match std::fs::read_dir(&self.0) {
            Ok(entries) => entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small valid IDX file (3 labels) and the SHA-256 of its raw bytes
/// (computed with `sha256sum`).
fn labels_idx() -> (Vec<u8>, &'static str) {
    let raw = encode_idx(&[3], &[5, 0, 4]).unwrap();
    assert_eq!(raw, [0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4]);
    (
        raw,
        "d229e0bc81fa2cb9dfab445bf40dd0a1b6516dd17c6b48c15a016dfd84e4c526",
    )
}

#[test]
fn download_good_files_verifies_and_renames() {
    let (raw, sha) = labels_idx();
    let images = encode_idx(&[2, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7]).unwrap();
    let routes = HashMap::from([
        ("a-idx1-ubyte.gz".to_owned(), Reply::Ok(gzip(&raw))),
        ("b-idx3-ubyte.gz".to_owned(), Reply::Ok(gzip(&images))),
    ]);
    let server = Server::start(routes);
    let dir = Scratch::new("good");
    let images_sha = "ff4829bbc0e8e7c4a69084405319247277501a7775fcd473c5ea2f6708363b07";
    let files = [("a-idx1-ubyte", sha), ("b-idx3-ubyte", images_sha)];
    let paths = download_with(&dir.0, &server.base, &files).unwrap();
    assert_eq!(
        paths,
        [dir.0.join("a-idx1-ubyte.gz"), dir.0.join("b-idx3-ubyte.gz")]
    );
    assert_eq!(dir.listing(), ["a-idx1-ubyte.gz", "b-idx3-ubyte.gz"]);
    assert_eq!(read_idx_file(&paths[0]).unwrap().data(), &[5, 0, 4]);
    assert_eq!(server.requests(), 2);

    // Verified files are kept without a new request.
    download_with(&dir.0, &server.base, &files).unwrap();
    assert_eq!(server.requests(), 2);
}

#[test]
fn download_truncated_file_leaves_nothing() {
    let (raw, sha) = labels_idx();
    let gz = gzip(&raw);
    let routes = HashMap::from([
        (
            "cut-idx1-ubyte.gz".to_owned(),
            Reply::Ok(gz[..gz.len() / 2].to_vec()),
        ),
        (
            "short-idx1-ubyte.gz".to_owned(),
            Reply::CutShort {
                body: gz[..gz.len() - 4].to_vec(),
                announced: gz.len(),
            },
        ),
    ]);
    let server = Server::start(routes);
    let dir = Scratch::new("truncated");

    let err = download_with(&dir.0, &server.base, &[("cut-idx1-ubyte", sha)]).unwrap_err();
    assert!(matches!(err, DataError::Gzip(_)), "{err}");
    assert_eq!(dir.listing(), Vec::<String>::new());

    let err = download_with(&dir.0, &server.base, &[("short-idx1-ubyte", sha)]).unwrap_err();
    assert!(matches!(err, DataError::Http { .. }), "{err}");
    assert_eq!(dir.listing(), Vec::<String>::new());
}

#[test]
fn download_wrong_checksum_leaves_nothing() {
    let (raw, sha) = labels_idx();
    let mut tampered = raw.clone();
    tampered[10] = 9;
    let routes = HashMap::from([("t-idx1-ubyte.gz".to_owned(), Reply::Ok(gzip(&tampered)))]);
    let server = Server::start(routes);
    let dir = Scratch::new("checksum");
    let err = download_with(&dir.0, &server.base, &[("t-idx1-ubyte", sha)]).unwrap_err();
    match &err {
        DataError::Checksum {
            file,
            expected,
            found,
        } => {
            assert_eq!((file.as_str(), expected.as_str()), ("t-idx1-ubyte", sha));
            assert_ne!(found, sha);
        }
        other => panic!("expected a checksum error, got {other}"),
    }
    assert_eq!(dir.listing(), Vec::<String>::new());
}

#[test]
fn download_missing_file_is_an_http_error() {
    let server = Server::start(HashMap::new());
    let dir = Scratch::new("missing");
    let err = download_with(&dir.0, &server.base, &[("nope-idx1-ubyte", "00")]).unwrap_err();
    assert!(
        matches!(&err, DataError::Http { url, .. } if url.ends_with("/files/nope-idx1-ubyte.gz")),
        "{err}"
    );
    assert_eq!(dir.listing(), Vec::<String>::new());
}

/// Serves the real MNIST files so the built-in checksums are exercised,
/// then loads what was downloaded.
#[test]
#[ignore = "needs MNIST: set MNIST_DIR and run with --ignored (CI does)"]
fn mnist_download_checks_real_checksums() {
    let source = PathBuf::from(std::env::var_os("MNIST_DIR").expect("MNIST_DIR is set"));
    let routes = constnet_runtime::data::mnist::FILES
        .iter()
        .map(|name| {
            let file = format!("{name}.gz");
            let bytes = std::fs::read(Path::new(&source).join(&file)).unwrap();
            (file, Reply::Ok(bytes))
        })
        .collect();
    let server = Server::start(routes);
    let dir = Scratch::new("mnist");
    let paths = Mnist::download(&dir.0, &server.base).unwrap();
    assert_eq!(paths.len(), 4);
    let mnist = Mnist::<[f32; 784]>::load(&dir.0).unwrap();
    assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
}
