//! Command-line syntax. See DESIGN.md "Contracts" for what users rely on.

use clap::{Args, Parser, Subcommand, ValueEnum};

const IMAGE_HELP: &str = "\
IMAGE references (the skopeo convention):
  docker-archive:PATH[:NAME:TAG]   a `docker save` tar
  oci:DIR[:REF|:@N|:sha256:HEX]    an OCI image layout folder (a ref name, a position, a digest)
  oci-archive:PATH[:REF]           an OCI image layout in a tar
  dir:PATH                         a root filesystem folder (dir:/ is this machine)
  docker-daemon:NAME[:TAG|@DIGEST] an image of the Docker Engine ($DOCKER_HOST)
  docker://HOST/REPO[:TAG|@DIGEST] an image in a registry
  PATH                             detected: archive, layout or folder";

/// Cut container images down to what their application needs, and prove it.
#[derive(Debug, Parser)]
#[command(name = "pare", version, about, after_help = IMAGE_HELP, max_term_width = 100)]
pub struct Cli {
    /// Platform to pick from a multi-platform image (OS/ARCH[/VARIANT]).
    #[arg(
        long,
        global = true,
        default_value = "linux/amd64",
        value_name = "PLATFORM"
    )]
    pub platform: String,

    /// Raise (or lower) the limits untrusted images are read within:
    /// NAME=N[,NAME=N…], N with an optional K, M or G suffix, or `none`.
    /// Names: layers, entries, uncompressed-bytes, path-bytes, path-depth,
    /// name-bytes, tree-bytes, header-bytes, metadata-file-bytes,
    /// metadata-bytes, json-bytes, symlink-hops, elf-bytes, extract-entries (SECURITY.md
    /// lists their defaults).
    #[arg(long, global = true, value_name = "NAME=N,…")]
    pub limits: Option<String>,

    /// No progress bars (they are drawn only when stderr is a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Registry credentials USER:PASSWORD for docker:// (otherwise from
    /// $REGISTRY_AUTH_FILE, containers' auth.json or Docker's config.json
    /// and its credential helpers).
    #[arg(long, global = true, value_name = "USER:PASSWORD")]
    pub creds: Option<String>,

    /// A folder of CA certificates (*.crt) and an optional client pair
    /// (*.cert, *.key) for docker:// registries.
    #[arg(long, global = true, value_name = "DIR")]
    pub cert_dir: Option<std::path::PathBuf>,

    /// A registry (HOST or HOST:PORT) that may be reached over plain HTTP;
    /// loopback always may. Repeat for more.
    #[arg(long, global = true, value_name = "HOST")]
    pub insecure_registry: Vec<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show an image's config, layers, size, wasted space and largest files.
    #[command(after_help = IMAGE_HELP)]
    Inspect(InspectArgs),
    /// Copy an image between transports, keeping its config and diff_ids.
    #[command(after_help = IMAGE_HELP)]
    Copy(CopyArgs),
    /// List the packages in an image (an SBOM, like Syft's).
    #[command(after_help = IMAGE_HELP)]
    Sbom(SbomArgs),
    /// Find what an attacker would use: shells, package managers, BusyBox,
    /// LOLBins, setuid files and more.
    #[command(after_help = AUDIT_HELP)]
    Audit(AuditArgs),
    /// Rebuild an image from scratch with only what its entry point needs.
    #[command(after_help = IMAGE_HELP)]
    Minify(Box<MinifyArgs>),
    /// Run an image's entry point in pare's sandbox (no Docker needed),
    /// exercise it, and list every path and system call it used.
    #[command(after_help = IMAGE_HELP)]
    Trace(TraceArgs),
    /// Find the known vulnerabilities of an image's packages, offline, in
    /// the local database (`pare db`).
    #[command(after_help = SCAN_HELP)]
    Scan(ScanArgs),
    /// The local vulnerability database: import advisories, show what it
    /// holds, update it from the public exports.
    Db(DbArgs),
}

const SCAN_HELP: &str = "\
SEVERITY: negligible, low, medium, high, critical, or unknown (any finding). A finding
of Unknown severity (no CVSS v3 vector and no tracker urgency: most Debian tracker
records) meets no other threshold, as in Grype.

The database is --db PATH, else $PARE_DB, else $XDG_CACHE_HOME/pare/vulnerabilities.db
(~/.cache/pare/vulnerabilities.db). An ignore file (--ignore-file FILE, else
.pare-ignore.yaml in the current folder when present) lists findings to leave out, with a
reason and an expiry date:
  ignore:
    - id: CVE-2023-4911
      package: glibc            # optional: a package or source package name
      reason: no setuid program is kept
      expires: 2027-06-30       # optional: the rule stops applying that day
Trivy's plain .trivyignore format (one ID a line, `exp:YYYY-MM-DD`) is read too.

Exit status: 0 done, 1 error, 2 bad usage, 3 a finding at or above --fail-on.";

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The image to scan.
    pub image: String,
    /// The vulnerability database (see below for the default).
    #[arg(long, value_name = "PATH")]
    pub db: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Exit with status 3 when a finding of this severity or higher is
    /// reported (after ignores).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<pare_vuln::scan::Severity>,
    /// Leave out vulnerabilities that have no fixed version yet.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Rules of findings to leave out (YAML, or Trivy's plain format).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<std::path::PathBuf>,
    /// Write to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    Sarif,
    /// The SBOM with a vulnerabilities section.
    CyclonedxJson,
}

fn parse_severity(text: &str) -> Result<pare_vuln::scan::Severity, String> {
    pare_vuln::scan::Severity::parse(text).ok_or_else(|| {
        format!(
            "unknown severity {text:?} (one of negligible, low, medium, high, critical, unknown)"
        )
    })
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The vulnerability database (default: $PARE_DB, else
    /// $XDG_CACHE_HOME/pare/vulnerabilities.db).
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub action: DbAction,
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Import advisories: OSV records (JSON or YAML files, folders, osv.dev's
    /// per-ecosystem zip exports) and Debian security tracker data (its
    /// CVE/DSA list records, or its JSON dump). All sources or none: a bad
    /// one leaves the database as it was.
    Import {
        /// Files, folders or zip archives.
        #[arg(required = true, value_name = "SOURCE")]
        sources: Vec<std::path::PathBuf>,
    },
    /// Show the sources, record counts and age of the database.
    Status {
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
    },
    /// Download the public exports (osv.dev per ecosystem, the Debian
    /// security tracker), resuming interrupted downloads, and import them.
    Update {
        /// Download NAME from URL instead of the public exports (repeat for
        /// each; a mirror, or a test server).
        #[arg(long, value_name = "NAME=URL")]
        source: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The image to run.
    pub image: String,
    /// Run this program instead of the image's Entrypoint.
    #[arg(long, value_name = "PATH")]
    pub entrypoint: Option<String>,
    /// Arguments instead of the image's Cmd (repeat for each).
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub cmd: Vec<String>,
    /// How long to let the app run when nothing else exercises it.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub probe_duration: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct MinifyArgs {
    /// The image to minify.
    pub image: String,
    /// Where to write the result (docker-archive:, oci:, oci-archive:).
    #[arg(short, long, value_name = "DEST")]
    pub output: String,
    /// Only the static closure (the entry point and what the loader
    /// loads): nothing is run. Without it, pare also runs the entry point
    /// in its own sandbox, exercises it with probes and keeps what it used.
    #[arg(long)]
    pub static_only: bool,
    /// Probe: wait until PORT accepts connections, then GET PATH (default
    /// /); any answer under 500 passes. Repeat for each. Default: every
    /// exposed port, with GET / where it speaks HTTP.
    #[arg(long, value_name = "PORT[/PATH]", value_parser = parse_probe_http)]
    pub probe_http: Vec<pare_trace::probe::Probe>,
    /// Probe: run CMD (a client such as `redis-cli ping`) from the original
    /// image's root, in the app's network namespace; exit status 0 passes.
    #[arg(long, value_name = "CMD", value_parser = parse_probe_cmd)]
    pub probe_cmd: Vec<pare_trace::probe::Probe>,
    /// Probe a serverless function: pare serves the AWS Lambda runtime API
    /// and hands it this event (JSON, or @FILE); a response passes.
    #[arg(long, value_name = "EVENT_JSON", value_parser = parse_probe_lambda)]
    pub probe_lambda: Vec<pare_trace::probe::Probe>,
    /// How long the app runs when nothing exercises it (no probe and no
    /// exposed port).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub probe_duration: f64,
    /// How long each probe may take, waiting for its port included.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub probe_timeout: f64,
    /// Run the probes again on the minified image and fail, naming what
    /// broke, if they no longer pass (the default for a traced run).
    #[arg(long, overrides_with = "no_verify")]
    pub verify: bool,
    /// Do not run the minified image again.
    #[arg(long)]
    pub no_verify: bool,
    /// Write a Docker/OCI seccomp profile allowing the system calls the
    /// app made, plus what a runtime needs to start it.
    #[arg(long, value_name = "FILE")]
    pub seccomp: Option<std::path::PathBuf>,
    /// Run this program instead of the image's Entrypoint.
    #[arg(long, value_name = "PATH")]
    pub entrypoint: Option<String>,
    /// Arguments instead of the image's Cmd (repeat for each).
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub cmd: Vec<String>,
    /// Also keep these programs and what they load (repeat for each).
    #[arg(long, value_name = "PROGRAM")]
    pub include_bin: Vec<String>,
    /// Keep the shell a script entry point runs under.
    #[arg(long)]
    pub keep_shell: bool,
    /// Write the image even if a needed library is not in it.
    #[arg(long)]
    pub allow_missing: bool,
    /// Also keep this path: a file, a folder (with all below it) or a
    /// glob (`*` within a folder, `**` across); repeat for each.
    #[arg(long, value_name = "PATH")]
    pub include: Vec<String>,
    /// Never keep paths this glob matches, nor what is below them.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Keep the time zone database (/usr/share/zoneinfo).
    #[arg(long)]
    pub include_tz: bool,
    /// Keep the configuration and data folders the entry point's packages
    /// installed (/etc/nginx, /usr/share/nginx), as is done by default for
    /// an image that exposes a port.
    #[arg(long)]
    pub include_package_data: bool,
    /// Also write the same result as a multi-stage Dockerfile (and the
    /// files it copies, in FILE.context/ beside it).
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<std::path::PathBuf>,
    /// Write the before/after report as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<std::path::PathBuf>,
    /// List every kept path with the reasons it is kept (and put them in
    /// the report).
    #[arg(long)]
    pub explain: bool,
    /// The vulnerability database to count known vulnerabilities before
    /// and after with (default: `pare scan`'s, when it exists).
    #[arg(long, value_name = "PATH")]
    pub db: Option<std::path::PathBuf>,
    /// Write an OpenVEX document: the vulnerabilities minification removed
    /// (not_affected, component_not_present) and those it kept.
    #[arg(long, value_name = "FILE")]
    pub vex: Option<std::path::PathBuf>,
}

const AUDIT_HELP: &str = "\
KINDS: shell, package-manager, busybox, interpreter, lolbin, network-tool,
  compiler, debugger, setuid, setgid, file-capability, world-writable

Exit status: 0 done, 1 error, 2 bad usage, 3 a --fail-on kind was found.";

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The image to audit.
    pub image: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// Exit with status 3 when a finding of one of these kinds is made.
    #[arg(long, value_name = "KIND[,KIND]", value_delimiter = ',', value_parser = parse_kind)]
    pub fail_on: Vec<pare_audit::Kind>,
    /// Write to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

fn parse_probe_http(text: &str) -> Result<pare_trace::probe::Probe, String> {
    pare_trace::probe::Probe::http(text).map_err(|e| e.to_string())
}

fn parse_probe_cmd(text: &str) -> Result<pare_trace::probe::Probe, String> {
    pare_trace::probe::Probe::cmd(text).map_err(|e| e.to_string())
}

fn parse_probe_lambda(text: &str) -> Result<pare_trace::probe::Probe, String> {
    pare_trace::probe::Probe::lambda(text).map_err(|e| e.to_string())
}

fn parse_kind(text: &str) -> Result<pare_audit::Kind, String> {
    pare_audit::Kind::parse(text).ok_or_else(|| {
        let kinds: Vec<&str> = pare_audit::Kind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind {text:?} (one of {})", kinds.join(", "))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// The image to catalog.
    pub image: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SbomFormat::Table)]
    pub format: SbomFormat,
    /// Write to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    Table,
    /// pare's own JSON: the package model.
    Json,
    CyclonedxJson,
    SpdxJson,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The image to inspect.
    pub image: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    /// How many of the largest files and folders to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Where to read the image from.
    pub source: String,
    /// Where to write it (docker-archive:, oci:, oci-archive:).
    pub destination: String,
    /// Layer compression to write (default: gzip for OCI, none for docker-archive).
    #[arg(long, value_enum)]
    pub compression: Option<CompressionArg>,
    /// Level of the layers compressed on the way: gzip 1 (fastest) to 9
    /// (smallest, default 6), zstd 1 to 19 (default 3). Layers that already
    /// have the compression asked for are copied as they are (skopeo's
    /// --dest-compress-level).
    #[arg(long, value_name = "N")]
    pub compression_level: Option<u32>,
    /// Print what was written as JSON.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    Gzip,
    Zstd,
    None,
}
