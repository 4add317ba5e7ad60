use sqlx::{Connection, Executor, PgConnection};

/// A database created for one test and dropped (with its connections) when the
/// fixture goes away.
pub struct TestDatabase {
    pub name: String,
    admin_url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let name = format!("pulse_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin_url).await.unwrap();
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .unwrap();
        Self { name, admin_url }
    }

    /// URL of the test database on the same server as the admin URL.
    pub fn url(&self) -> String {
        let base = self
            .admin_url
            .rsplit_once('/')
            .map_or(self.admin_url.as_str(), |(base, _)| base);
        format!("{base}/{}", self.name)
    }

    /// The server's address, for a [`crate::TcpProxy`] to forward to.
    pub fn server(&self) -> std::net::SocketAddr {
        use std::net::ToSocketAddrs;
        let url = url::Url::parse(&self.admin_url).unwrap();
        let host = url.host_str().unwrap_or("127.0.0.1");
        let port = url.port().unwrap_or(5432);
        (host, port).to_socket_addrs().unwrap().next().unwrap()
    }

    /// URL of the test database reached through `addr` (a [`crate::TcpProxy`]
    /// in front of the server).
    pub fn url_through(&self, addr: std::net::SocketAddr) -> String {
        let mut url = url::Url::parse(&self.url()).unwrap();
        url.set_host(Some(&addr.ip().to_string())).unwrap();
        url.set_port(Some(addr.port())).unwrap();
        url.to_string()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name);
        // Drop runs inside the test's runtime; do the async work on a thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                    let _ = conn.execute(sql.as_str()).await;
                }
            });
        })
        .join();
    }
}

fn admin_url() -> String {
    std::env::var("PULSE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}
