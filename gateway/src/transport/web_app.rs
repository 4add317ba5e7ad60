//! The demo web app (`gateway/web/`), embedded in the binary so `pulse suite` shows it on a
//! fresh machine with no npm step: `GET /` is its page, `GET /app/{file}` its scripts, styles
//! and the vendored `@microsoft/signalr` browser builds. Plain files, no bundler; the table
//! below is the whole app, and a test checks it names every file of the folder.

use axum::{
    extract::Path,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// Every file of `gateway/web/` but the page itself, by its path under `/app/`.
const FILES: &[(&str, &[u8])] = &[
    ("app.css", include_bytes!("../../web/app.css")),
    ("main.js", include_bytes!("../../web/main.js")),
    ("coaching.js", include_bytes!("../../web/coaching.js")),
    ("connection.js", include_bytes!("../../web/connection.js")),
    ("dom.js", include_bytes!("../../web/dom.js")),
    ("feed.js", include_bytes!("../../web/feed.js")),
    (
        "group-screen.js",
        include_bytes!("../../web/group-screen.js"),
    ),
    ("lean-coffee.js", include_bytes!("../../web/lean-coffee.js")),
    ("lists.js", include_bytes!("../../web/lists.js")),
    ("tasks.js", include_bytes!("../../web/tasks.js")),
    (
        "vendor/signalr.min.js",
        include_bytes!("../../web/vendor/signalr.min.js"),
    ),
    (
        "vendor/signalr-protocol-msgpack.min.js",
        include_bytes!("../../web/vendor/signalr-protocol-msgpack.min.js"),
    ),
];

const INDEX: &[u8] = include_bytes!("../../web/index.html");

/// `GET /`: the app's page.
pub(super) async fn index() -> Response {
    asset("index.html", INDEX)
}

/// `GET /app/{*file}`: one of [`FILES`], or 404.
pub(super) async fn file(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(name, _)| *name == path) {
        Some((name, bytes)) => asset(name, bytes),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn asset(name: &str, bytes: &'static [u8]) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type(name));
    // The files change only with the binary; revalidating each load keeps a rebuilt app fresh.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn content_type(name: &str) -> HeaderValue {
    let extension = name.rsplit('.').next().unwrap_or_default();
    HeaderValue::from_static(match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn files_under(root: &Path, dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read gateway/web") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files_under(root, &path, found);
            } else {
                let relative = path.strip_prefix(root).expect("under web/");
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn the_table_names_every_file_of_the_web_folder() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = Vec::new();
        files_under(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut served: Vec<String> = FILES.iter().map(|(name, _)| (*name).to_owned()).collect();
        served.push("index.html".into());
        served.sort();
        assert_eq!(served, on_disk);
    }

    #[test]
    fn scripts_are_served_as_javascript_so_modules_load() {
        assert_eq!(
            content_type("vendor/signalr.min.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("app.css"), "text/css; charset=utf-8");
    }
}
