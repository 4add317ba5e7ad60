//! What the kernel says a server process costs: resident memory and CPU time.

use anyhow::{anyhow, Context, Result};

/// Clock ticks per second of `utime`/`stime` in `/proc/<pid>/stat` (USER_HZ,
/// 100 on every Linux the bench runs on).
const TICKS_PER_SECOND: u64 = 100;

/// Resident set size in KiB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS for process {pid}"))
}

/// User plus system CPU time the process has used, in microseconds.
pub fn cpu_micros(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; count fields after its ')'.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("malformed /proc/{pid}/stat"))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15; field 3 is the first after the name.
    let ticks = |index: usize| -> Result<u64> {
        fields
            .get(index - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| anyhow!("no field {index} in /proc/{pid}/stat"))
    };
    let total = ticks(14)?.saturating_add(ticks(15)?);
    Ok(total.saturating_mul(1_000_000 / TICKS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_process() {
        let pid = std::process::id();
        assert!(rss_kib(pid).is_ok_and(|kib| kib > 0));
        assert!(cpu_micros(pid).is_ok());
    }
}
