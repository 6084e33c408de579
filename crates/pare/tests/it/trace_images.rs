//! The workloads tests/images/build.sh makes for minify's traced run (issue
//! 11): `pare inspect` reads each one's entry point, command, working folder
//! and ports as its Dockerfile sets them, so the traced run starts what the
//! image's own config says.

use serde_json::{Value, json};

use crate::common::*;
use crate::require;

#[test]
fn inspect_reads_the_traced_workloads_entry_points_and_ports() {
    // (image, entrypoint, cmd, workdir, exposed ports), from the Dockerfiles
    // under tests/images/.
    let workloads: [(&str, Value, Value, Value, Value); 4] = [
        (
            "node",
            Value::Null,
            json!(["node", "/app/server.js"]),
            Value::Null,
            json!(["8085/tcp"]),
        ),
        (
            "redis-gosu",
            json!(["docker-entrypoint.sh"]),
            json!(["redis-server", "--protected-mode", "no"]),
            json!("/data"),
            json!(["6379/tcp"]),
        ),
        (
            "lambda",
            json!(["python3", "-m", "awslambdaric"]),
            json!(["app.handler"]),
            json!("/var/task"),
            json!([]),
        ),
        (
            "cplugins",
            json!(["plugind"]),
            Value::Null,
            Value::Null,
            json!(["8086/tcp", "8087/tcp"]),
        ),
    ];
    for (name, entrypoint, cmd, workdir, ports) in workloads {
        assert!(TRACE_IMAGES.contains(&name), "{name}");
        let archive = require!(test_image(name));
        let ours = inspect_json(&format!("docker-archive:{}", archive.display()));
        let config = &ours["config"];
        assert_eq!(config["entrypoint"], entrypoint, "{name}: entrypoint");
        assert_eq!(config["cmd"], cmd, "{name}: cmd");
        assert_eq!(config["workdir"], workdir, "{name}: workdir");
        // Sorted: the config holds the ports as a JSON object, and pare
        // reports them in no fixed order (yet).
        let mut exposed: Vec<Value> = config["exposed_ports"].as_array().unwrap().clone();
        exposed.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        assert_eq!(Value::Array(exposed), ports, "{name}: exposed ports");
        // Each is its Debian base plus the app's layers.
        assert!(
            ours["layers"].as_array().unwrap().len() >= 4,
            "{name}: layers"
        );
    }
}
