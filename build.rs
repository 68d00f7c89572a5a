//! Gathers the doc examples of `constnet-runtime` into one Markdown file that
//! `src/lib.rs` includes under `cfg(doctest)`, so that `cargo test --doc -p
//! constnet` compiles and runs every example as a user writes it: through
//! this crate, with no other dependency. (The runtime's own doctests are
//! off, so each example runs once.) Each example is headed by the file and
//! line it comes from, which a failure report shows.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut files = Vec::new();
    // Absent from a published package: then there is nothing to gather.
    collect(Path::new("runtime/src"), &mut files);
    files.sort();
    let mut markdown = String::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = fs::read_to_string(file).expect("read a runtime source file");
        examples(file, &text, &mut markdown);
    }
    println!("cargo:rerun-if-changed=runtime/src");
    fs::write(out.join("runtime_doc_examples.md"), markdown).expect("write the doc examples");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Where a line of doc comments lies.
#[derive(PartialEq)]
enum Fence {
    Outside,
    Rust,
    /// A block in another language (`text`, `sh`): skipped.
    Other,
}

/// Appends the Rust code blocks of `text`'s doc comments (`///`, `//!`).
fn examples(file: &Path, text: &str, markdown: &mut String) {
    let mut fence = Fence::Outside;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let Some(doc) = trimmed
            .strip_prefix("///")
            .or_else(|| trimmed.strip_prefix("//!"))
        else {
            assert!(
                fence == Fence::Outside,
                "{}:{}: a doc example is not closed",
                file.display(),
                n + 1
            );
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        if let Some(info) = doc.trim_start().strip_prefix("```") {
            fence = match fence {
                Fence::Rust => {
                    markdown.push_str("```\n");
                    Fence::Outside
                }
                Fence::Other => Fence::Outside,
                Fence::Outside if is_rust(info) => {
                    let at = format!("{}:{}", file.display(), n + 1);
                    markdown.push_str(&format!("\n`{at}`\n\n```{info}\n"));
                    Fence::Rust
                }
                Fence::Outside => Fence::Other,
            };
        } else if fence == Fence::Rust {
            markdown.push_str(doc);
            markdown.push('\n');
        }
    }
}

/// Whether a fence's info string marks Rust: empty, or rustdoc's attributes.
fn is_rust(info: &str) -> bool {
    info.split(',').map(str::trim).all(|word| {
        matches!(
            word,
            "" | "rust" | "no_run" | "should_panic" | "ignore" | "compile_fail" | "edition2024"
        )
    })
}
