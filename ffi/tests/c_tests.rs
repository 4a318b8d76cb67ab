#![allow(clippy::expect_used, clippy::unwrap_used, reason = "test driver")]
//! Compiles `tests/c/test_ffi.c` with the system C compiler against the built library and
//! runs it, under valgrind memcheck when valgrind is installed (CI installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

fn lib_dir() -> PathBuf {
    // tests/… binary lives in target/<profile>/deps; the library one level up.
    let exe = std::env::current_exe().expect("test exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

#[test]
fn c_test_program_passes_under_valgrind() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let lib = lib_dir();
    // `cargo test` builds this crate as an rlib only; build the cdylib the C program links
    // against, so it is never stale (same profile and target dir, so this is incremental).
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    build
        .args(["build", "-p", "crm-privacy-ffi", "--lib"])
        .current_dir(dir);
    if lib.file_name().is_some_and(|p| p == "release") {
        build.arg("--release");
    }
    assert!(
        build.status().expect("run cargo build").success(),
        "building the cdylib failed"
    );
    assert!(
        lib.join("libcrm_privacy_ffi.so").exists(),
        "cdylib not built in {}",
        lib.display()
    );
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test_ffi");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg(format!("-I{dir}/include"))
        .arg(format!("{dir}/tests/c/test_ffi.c"))
        .arg("-o")
        .arg(&out)
        .arg(format!("-L{}", lib.display()))
        .arg("-lcrm_privacy_ffi")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .status()
        .expect("run the C compiler");
    assert!(status.success(), "C test program did not compile");

    let valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let db_dir = tempfile::tempdir().expect("temp dir");
    let db = db_dir.path().join("c.db");
    let output = if valgrind {
        Command::new("valgrind")
            .args([
                "--tool=memcheck",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect",
                "--error-exitcode=99",
                "-q",
            ])
            .arg(format!("--suppressions={dir}/tests/valgrind.supp"))
            .arg(&out)
            .arg(&db)
            .output()
    } else {
        eprintln!("valgrind not installed: running the C tests without memcheck");
        Command::new(&out).arg(&db).output()
    }
    .expect("run the C test program");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(stdout.contains(" 0 failed"), "C tests failed");
    assert_eq!(
        output.status.code(),
        Some(0),
        "C tests or valgrind reported errors"
    );
}
