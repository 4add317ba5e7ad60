//! Where the gateway finds each domain service: one setting per service the
//! hubs call ([`crate::hub::upstreams`]), each with the flag, environment
//! variable and default its [`crate::hub::Upstream`] gives.

use clap::{error::ErrorKind, Arg, ArgMatches, Args, Command, FromArgMatches};

use crate::hub::{upstreams, Upstream};

/// Each service's URL, by the service's name.
#[derive(Debug, Clone)]
pub struct ServiceUrls(Vec<(&'static str, String)>);

impl ServiceUrls {
    /// The configured URL of `upstream`, its default when none was read.
    pub fn url(&self, upstream: &Upstream) -> &str {
        self.0
            .iter()
            .find(|(name, _)| *name == upstream.name)
            .map_or(upstream.default_url, |(_, url)| url)
    }

    /// Points the gateway at the service named `service` (as `pulse` names
    /// it); a service no hub calls has no setting, and nothing changes.
    pub fn set(&mut self, service: &str, url: String) {
        if let Some((_, known)) = self.0.iter_mut().find(|(name, _)| *name == service) {
            *known = url;
        }
    }

    /// The names of the services the gateway calls.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|(name, _)| *name)
    }
}

impl FromArgMatches for ServiceUrls {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self(
            upstreams()
                .into_iter()
                .map(|upstream| {
                    let url = matches
                        .try_get_one::<String>(&upstream.flag())
                        .map_err(|e| clap::Error::raw(ErrorKind::InvalidValue, e))?
                        .map_or(upstream.default_url, String::as_str);
                    Ok((upstream.name, url.to_owned()))
                })
                .collect::<Result<_, clap::Error>>()?,
        ))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ServiceUrls {
    fn augment_args(command: Command) -> Command {
        upstreams().into_iter().fold(command, |command, upstream| {
            command.arg(
                Arg::new(upstream.flag())
                    .long(upstream.flag())
                    .env(upstream.env())
                    .default_value(upstream.default_url)
                    .value_name(upstream.value_name())
                    .help(upstream.help),
            )
        })
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::hub::TASKS;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        services: ServiceUrls,
    }

    #[test]
    fn a_service_url_is_read_from_its_flag_or_defaults() {
        let cli = Cli::parse_from(["gateway", "--tasks-url", "http://10.0.0.7:9000"]);
        assert_eq!(cli.services.url(&TASKS), "http://10.0.0.7:9000");
        let cli = Cli::parse_from(["gateway"]);
        assert_eq!(cli.services.url(&TASKS), TASKS.default_url);
    }

    #[test]
    fn the_suite_can_point_the_gateway_at_a_service_by_name() {
        let mut cli = Cli::parse_from(["gateway"]);
        cli.services
            .set("tasks", "http://127.0.0.1:1234".to_owned());
        assert_eq!(cli.services.url(&TASKS), "http://127.0.0.1:1234");
    }
}
