//! The domain services this binary runs, the one list of them: `pulse
//! suite` runs them in this order, each is a subcommand of its own, and
//! nothing else in the binary names one. A new service adds one
//! `domain_service!` line and one entry in [`SERVICES`].

use pulse_coaching::{CoachingApp, CoachingConfig};
use pulse_lean_coffee::{LeanCoffeeApp, LeanCoffeeConfig};
use pulse_lists::{ListsApp, ListsConfig};
use pulse_tasks::{TasksApp, TasksConfig};

use crate::{
    domain::{domain_service, Credential, Facts},
    registry::{Entry, Service},
};

domain_service!(ListsApp, ListsConfig, lists_addr);
domain_service!(LeanCoffeeApp, LeanCoffeeConfig, lean_coffee_addr);
domain_service!(CoachingApp, CoachingConfig, coaching_addr);
domain_service!(TasksApp, TasksConfig, tasks_addr);

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
