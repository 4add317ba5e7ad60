//! The services' settings on the command line, from the list of
//! [`SERVICES`]: one subcommand per service ([`ServiceCommand`]), and every
//! service's flags in `pulse suite` ([`ServiceConfigs`]). Each service's
//! flags are its own `clap::Args` struct, so names, variables and defaults
//! are what that struct declares.

use clap::{error::ErrorKind, ArgMatches, Args, Command, FromArgMatches, Subcommand};

use crate::{
    cli::{CommonArgs, RelayArgs},
    registry::Configured,
    services::SERVICES,
};

/// `pulse lists`, `pulse lean-coffee`, …: one service with the shared
/// settings.
#[derive(Debug)]
pub struct ServiceCommand {
    pub service: Box<dyn Configured>,
    pub relay: RelayArgs,
    pub common: CommonArgs,
}

impl FromArgMatches for ServiceCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, matches)) = matches.subcommand() else {
            return Err(clap::Error::raw(
                ErrorKind::MissingSubcommand,
                "a service to run",
            ));
        };
        let Some(service) = SERVICES.iter().find(|s| s.facts().command == name) else {
            return Err(clap::Error::raw(
                ErrorKind::InvalidSubcommand,
                format!("no service named {name}"),
            ));
        };
        Ok(Self {
            service: service.configure(matches)?,
            relay: RelayArgs::from_arg_matches(matches)?,
            common: CommonArgs::from_arg_matches(matches)?,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Subcommand for ServiceCommand {
    fn augment_subcommands(command: Command) -> Command {
        SERVICES.iter().fold(command, |command, service| {
            let facts = service.facts();
            let own = RelayArgs::augment_args(service.augment(Command::new(facts.command)));
            // After the shared settings, whose doc line would be the about.
            command.subcommand(CommonArgs::augment_args(own).about(facts.about))
        })
    }

    fn augment_subcommands_for_update(command: Command) -> Command {
        Self::augment_subcommands(command)
    }

    fn has_subcommand(name: &str) -> bool {
        SERVICES.iter().any(|s| s.facts().command == name)
    }
}

/// Every service's own settings, in the order of [`SERVICES`].
#[derive(Debug)]
pub struct ServiceConfigs(pub Vec<Box<dyn Configured>>);

impl FromArgMatches for ServiceConfigs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        SERVICES
            .iter()
            .map(|service| service.configure(matches))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ServiceConfigs {
    fn augment_args(command: Command) -> Command {
        SERVICES
            .iter()
            .fold(command, |command, service| service.augment(command))
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command as Subcommand};

    #[test]
    fn each_listed_service_is_a_subcommand_with_its_own_flags() {
        for service in &SERVICES {
            let name = service.facts().command;
            let flag = format!("--{name}-addr");
            let argv = ["pulse", name, &flag, "127.0.0.1:0"];
            let Subcommand::Service(command) = Cli::parse_from(argv).command else {
                panic!("{name} is not a service subcommand");
            };
            assert_eq!(command.service.facts().command, name);
            assert_eq!(command.service.addr().port(), 0);
        }
    }

    #[test]
    fn the_suite_takes_every_listed_service_in_order() {
        let Subcommand::Suite(args) = Cli::parse_from(["pulse", "suite"]).command else {
            panic!("not the suite command");
        };
        let names: Vec<_> = args.services.0.iter().map(|s| s.facts().command).collect();
        let listed: Vec<_> = SERVICES.iter().map(|s| s.facts().command).collect();
        assert_eq!(names, listed);
    }

    #[test]
    fn the_suite_points_the_gateway_at_every_service_it_calls() {
        let Subcommand::Suite(args) = Cli::parse_from(["pulse", "suite"]).command else {
            panic!("not the suite command");
        };
        for name in args.gateway.services.names() {
            assert!(
                SERVICES.iter().any(|s| s.facts().command == name),
                "the gateway calls {name}, which pulse does not run"
            );
        }
    }
}
