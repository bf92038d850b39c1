//! The `sluice` command line: [`main`] parses the arguments and runs the command. The `sluice`
//! binary of this package and the `sluice-pre-commit` package at the repository root (the
//! pre-commit hook's build) both call it.

pub mod allocator;
mod backfill_cmd;
mod changed;
mod drift_cmd;
mod explain_sql;
mod integrity;
mod lint_cmd;
mod output;
mod trace_cmd;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Sluice: refuses unsafe database migrations before they ship (PostgreSQL, MySQL, MariaDB).
#[derive(Parser, Debug)]
#[command(name = "sluice", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lint migration files or directories (`-` reads standard input).
    Lint(LintArgs),
    /// List every rule with its dialects, category, default severity and whether it can fix.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Print a rule's documentation.
    Explain {
        /// Rule name, e.g. `create-index-non-concurrently`.
        rule: String,
    },
    /// Explain what each statement of a migration locks, scans and rewrites on the target server.
    ExplainSql(explain_sql::ExplainSqlArgs),
    /// Write `sluice.sum` (a chained SHA-256 of the migrations in apply order) in each migration directory.
    Hash(integrity::HashArgs),
    /// Check migration directories against their `sluice.sum` (edited, removed, reordered or
    /// inserted-before migrations).
    CheckIntegrity(integrity::CheckArgs),
    /// Apply migrations to a real PostgreSQL server and measure locks, rewrites and blocked traffic.
    Trace(trace_cmd::TraceArgs),
    /// Compare a migration directory with a live database: the tool's history table (edited,
    /// missing, failed and pending migrations) and the schema the applied migrations produce.
    Drift(drift_cmd::DriftArgs),
    /// Update a table in throttled, resumable primary-key batches (a backfill), watching replica lag.
    Backfill(backfill_cmd::BackfillArgs),
    /// Run the language server on standard input and output (for editors).
    Lsp {
        /// Accepted for editors that pass it; standard input and output are always used.
        #[arg(long)]
        stdio: bool,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Source excerpts with carets, help and fixes.
    Human,
    /// One JSON document (schema in docs/json-output.md).
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitLab Code Quality JSON (merge-request widget).
    Gitlab,
    /// JUnit XML: one test suite per file, one test case per finding.
    Junit,
    /// Markdown for a pull-request comment: summary table and collapsible details per file.
    Markdown,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    Postgres,
    Mysql,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    Error,
    Warning,
    Info,
}

/// The target server, shared by every command that analyses SQL.
#[derive(Args, Debug)]
pub struct TargetArgs {
    /// SQL dialect (overrides the configuration; default postgres).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// Target PostgreSQL version, e.g. 15 or 14.3 (overrides the configuration).
    #[arg(long, value_name = "VERSION")]
    pub pg_version: Option<String>,
    /// Target MySQL/MariaDB version, e.g. 8.0.35 or mariadb-10.11 (overrides the configuration).
    #[arg(long, value_name = "VERSION")]
    pub mysql_version: Option<String>,
}

impl TargetArgs {
    /// Configuration overrides for these flags; an invalid version names its flag.
    pub fn overrides(&self) -> Result<sluice_workspace::Overrides, String> {
        Ok(sluice_workspace::Overrides {
            dialect: self.dialect.map(|d| match d {
                DialectArg::Postgres => sluice_core::Dialect::Postgres,
                DialectArg::Mysql => sluice_core::Dialect::MySql,
            }),
            pg_version: self
                .pg_version
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| format!("--pg-version: {e}"))?,
            mysql_version: self
                .mysql_version
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| format!("--mysql-version: {e}"))?,
            ..Default::default()
        })
    }
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Files or directories to lint; directories are walked (honouring .gitignore) for `*.sql`.
    /// `-` reads standard input. Defaults to the current directory.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Treat every file as running inside a transaction (the migration tool wraps files).
    #[arg(long)]
    pub assume_in_transaction: bool,
    /// Use this configuration file instead of discovering `sluice.toml` next to each file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit with 1 when a finding at or above this level exists (overrides `fail_on`).
    #[arg(long, value_enum)]
    pub fail_on: Option<LevelArg>,
    /// File name to report (and to find the configuration from) when reading standard input.
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Apply safe fixes in place.
    #[arg(long)]
    pub fix: bool,
    /// With --fix or --diff, also apply fixes that change behaviour.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff instead of writing them.
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
    /// Report only on migration files changed since this git revision (committed or not, new
    /// files included); every migration is still replayed to know the schema. Files added since
    /// the revision count as not yet applied.
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
    /// Report only on the files listed in FILE (one path per line, `-` for standard input);
    /// they count as not yet applied.
    #[arg(long, value_name = "FILE", conflicts_with = "changed_since")]
    pub changed_files_from: Option<PathBuf>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Runs the command line: parses `std::env::args`, runs the command, returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Error reports keep their lines whole: they name files and keys that must stay greppable.
    let _ = miette::set_hook(Box::new(|_| Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())));
    // Parsing deeply nested SQL recurses; give worker threads room (see sluice_core).
    let _ = rayon::ThreadPoolBuilder::new().stack_size(sluice_core::RECOMMENDED_STACK_SIZE).build_global();
    match cli.command {
        Command::Lint(args) => lint_cmd::run(&args),
        Command::Rules { format } => {
            print!("{}", output::rules_table(format));
            ExitCode::SUCCESS
        }
        Command::ExplainSql(args) => explain_sql::run(&args),
        Command::Lsp { stdio: _ } => {
            allocator::tune_for_server();
            sluice_lsp::run_stdio()
        }
        Command::Trace(args) => trace_cmd::run(&args),
        Command::Drift(args) => drift_cmd::run(&args),
        Command::Backfill(args) => backfill_cmd::run(&args),
        Command::Hash(args) => integrity::run_hash(&args),
        Command::CheckIntegrity(args) => integrity::run_check(&args),
        Command::Explain { rule } => match sluice_rules::registry::lookup(&rule) {
            Some(meta) => {
                print!("{}", output::explain(meta));
                ExitCode::SUCCESS
            }
            None => {
                let hint = sluice_rules::registry::suggest(&rule)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                eprintln!("error: unknown rule `{rule}`{hint}; `sluice rules` lists them");
                ExitCode::from(2)
            }
        },
    }
}
