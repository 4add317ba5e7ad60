//! The domain services this binary runs, the one list of them: `pulse
//! suite` runs them in this order, each is a subcommand of its own, and
//! nothing else in the binary names one. A new service adds one entry in
//! [`SERVICES`].

use pulse_coaching::CoachingApp;
use pulse_lean_coffee::LeanCoffeeApp;
use pulse_lists::ListsApp;
use pulse_tasks::TasksApp;

use crate::{
    domain::{Credential, Facts},
    registry::{Entry, Service},
};

pub static SERVICES: [&dyn Service; 4] = [
    &Entry::<ListsApp>::new(Facts {
        command: "lists",
        about: "Run the shopping-list gRPC service only",
        ready_key: "lists",
        title: "shopping-list service",
        telemetry: "pulse-lists",
        credential: Credential::Jwt,
    }),
    &Entry::<LeanCoffeeApp>::new(Facts {
        command: "lean-coffee",
        about: "Run the Lean Coffee gRPC service only",
        ready_key: "leanCoffee",
        title: "Lean Coffee service",
        telemetry: "pulse-lean-coffee",
        credential: Credential::Jwt,
    }),
    &Entry::<CoachingApp>::new(Facts {
        command: "coaching",
        about: "Run the coaching gRPC service (chat, goals, notifications) only",
        ready_key: "coaching",
        title: "coaching service",
        telemetry: "pulse-coaching",
        credential: Credential::Jwt,
    }),
    // Its callers present the master key or a virtual key: `pulse tasks`
    // needs no JWT settings.
    &Entry::<TasksApp>::new(Facts {
        command: "tasks",
        about: "Run the task-notification gRPC service (virtual keys, tasks, spend) only",
        ready_key: "tasks",
        title: "task-notification service",
        telemetry: "pulse-tasks",
        credential: Credential::MasterKey,
    }),
];
