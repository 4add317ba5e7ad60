//! The rules of the task-notification service, without I/O: what a valid
//! key, task, report or notice is, how a report moves a task, how money is
//! counted and when spend deserves an alert. The store applies these inside
//! its transactions; nothing here knows about SQL or protobuf.

mod key;
mod money;
mod named;
mod navigation;
mod spend;
mod system;
mod task;
mod text;
mod webhook;

pub use key::{budget, KeyStatus, NewVirtualKey, Secret, VirtualKey};
pub use money::Money;
pub use named::Named;
pub use navigation::Navigation;
pub use spend::{thresholds_reached, unusual_average, NewSpend, SpendWindow, HISTORY_WINDOWS};
pub use system::{ConfigurationChange, HealthStatus, NewAlert, ProviderHealth, RateLimit};
pub use task::{NewTask, Progress, Report, Task, TaskKind, TaskStatus};
pub use webhook::{WebhookDelivery, WebhookOutcome, WebhookReport};
