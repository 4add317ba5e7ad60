//! Who is calling: validation of JWT bearer tokens (HS256 or RS256), the
//! identity they carry, minting of tokens for development and tests, and the
//! deployment's master key.
//!
//! Every binary validates the same way, so the gateway and the services agree
//! on who a user is without calling each other.

mod bearer;
mod claims;
mod error;
mod master_key;
mod validator;

pub use bearer::{bearer_from_header, bearer_from_query};
pub use claims::{Identity, TokenRequest};
pub use error::AuthError;
pub use master_key::{MasterKey, MIN_MASTER_KEY_LEN};
pub use validator::{JwtKeys, JwtValidator};
