//! Talking to a service under test over gRPC, as a caller with a credential
//! (or without one), and checking how it refuses.

use std::future::Future;
use std::net::SocketAddr;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Response, Status};

/// The channel type of every test client: `FooClient<Authorized>`.
pub type Authorized = InterceptedService<Channel, Bearer>;

/// Adds `authorization: Bearer <credential>` to every request (when it has
/// one). The credential is whatever the service accepts: a user's token
/// ([`crate::TestUser::bearer`]), a master key, a virtual key's secret.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    /// Sends `credential`; `None` sends no `authorization` header at all.
    pub fn new(credential: Option<&str>) -> Self {
        Self(credential.map(|credential| {
            format!("Bearer {credential}")
                .parse()
                .expect("ascii header")
        }))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A connection of its own to the service at `addr`, so clients of
/// different users never share one.
pub async fn connect(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connects")
}

/// Asserts a refusal's code and exact message: the message is part of the
/// contract clients show to people.
pub fn assert_refused(status: &Status, code: Code, message: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(status.message(), message);
}

/// Asserts that `call`, sent without a credential, is refused as
/// `UNAUTHENTICATED` with the text every service gives for it.
pub async fn assert_needs_bearer<T>(call: impl Future<Output = Result<Response<T>, Status>>) {
    match call.await {
        Ok(_) => panic!("a call without a token was accepted"),
        Err(status) => assert_refused(&status, Code::Unauthenticated, "missing bearer token"),
    }
}
