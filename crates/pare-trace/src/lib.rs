//! # pare-trace
//!
//! Runs an image's entry point the way a container runtime would, in a
//! sandbox pare builds itself (no Docker daemon): the image's root
//! materialised by path-safe extraction ([`materialise`]), new mount, PID,
//! IPC, UTS and network namespaces, pivot_root, a fresh /proc and a
//! minimal /dev ([`sandbox`], whose system calls sit behind [`sys::Sys`]).
//! The process tree runs under ptrace ([`tracer`]), which records every
//! path it opens, executes, stats or looks for, and every system call it
//! makes. [`probe`] exercises the app from outside (HTTP, a client
//! command, the AWS Lambda runtime API in [`lambda`]).

pub mod exercise;
pub mod filter;
pub mod lambda;
pub mod materialise;
pub mod probe;
pub mod run;
pub mod sandbox;
pub mod sys;
pub mod tracer;
