//! The README's configuration table is checked against the real arguments, so
//! it cannot go stale.

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use crate::cli::Cli;

    const README: &str = include_str!("../../../README.md");

    #[test]
    fn every_setting_is_in_the_readme_with_its_default() {
        let cli = Cli::command();
        let suite = cli.find_subcommand("suite").expect("suite command");
        for arg in suite.get_arguments() {
            let Some(env) = arg.get_env() else { continue };
            let env = env.to_string_lossy();
            let row = README
                .lines()
                .find(|line| line.starts_with('|') && line.contains(&format!("`{env}`")))
                .unwrap_or_else(|| panic!("README has no row for {env}"));
            for default in arg.get_default_values() {
                let default = default.to_string_lossy();
                assert!(
                    row.contains(&format!("`{default}`")),
                    "README row for {env} does not give the default `{default}`: {row}"
                );
            }
        }
    }
}
