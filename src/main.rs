use clap::Parser;
use trailhound::cli::{Cli, Command};

// The scan's read workers allocate each batch's cells, spans, samples and datapoints, and the
// applying thread frees them: mimalloc serves those cross-thread frees far more cheaply than
// glibc's malloc (BENCHMARKS.md, issue 14). `--no-default-features` builds on the system allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    #[cfg(feature = "mimalloc")]
    keep_freed_pages();
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colours only for a person at a terminal: a file or pipe gets plain text (NO_COLOR honoured).
    let ansi = trailhound::term::colour::wanted(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
    let result = match &cli.command {
        Command::Stats(args) => trailhound::commands::stats::run(args),
        Command::Scan(args) => trailhound::commands::scan::run(args),
        Command::Search(args) => trailhound::commands::search::run(args),
        Command::Rules(args) => trailhound::commands::rules::run(args),
        Command::Baseline(cmd) => trailhound::commands::baseline::run(cmd),
        Command::Simulate(args) => trailhound::commands::simulate::run(args),
        Command::Evaluate(args) => trailhound::commands::evaluate::run(args),
        Command::Traps(cmd) => trailhound::commands::traps::run(cmd),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // Line by line, so multi-line errors (a pattern with a caret under the fault) keep their
            // shape; continuation lines are indented so no text in them can pass for a line of ours.
            let text = format!("{e:#}");
            let lines: Vec<String> = text.split('\n').map(|l| trailhound::term::escape::terminal(l).into_owned()).collect();
            eprintln!("trailhound: error: {}", lines.join("\n  "));
            std::process::exit(1);
        }
    }
}

/// mimalloc gives freed pages back to the system 10 ms after they empty (`purge_delay`), and
/// the scan's next batch faults them in again, zeroed by the kernel: 1.9% of the scan's
/// samples. Never giving them back took the scan's CPU 3% lower; peak memory is unchanged (the
/// process keeps what it peaked at). `MIMALLOC_PURGE_DELAY` in the environment still decides.
#[cfg(feature = "mimalloc")]
fn keep_freed_pages() {
    /// `mi_option_purge_delay` in mimalloc v2's `mi_option_e`.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called first in `main`, before any other thread exists (the option is not
        // thread-safe to set); -1 is the documented "never purge".
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    }
}
