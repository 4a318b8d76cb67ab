//! Parsers against the raw library calls they wrap, same inputs, same run (issue 15):
//! - `Phone::parse` vs raw `phonenumber::parse` (alone, and with the `is_valid` check and
//!   E.164 formatting that make up the same work), target ≤ 1.2×;
//! - `Phone::parse_with` national input with a region hint vs the raw call with that region;
//! - `Email::parse` vs the raw `idna` UTS #46 call on the domain (strict configuration), and vs
//!   that call plus building the owned `local@domain` string (the least work that yields the
//!   same result), target ≤ 1.2×, on ASCII addresses, internationalized ones, and a realistic
//!   mix (two in sixteen internationalized, one given as Punycode);
//! - before any benchmark: the first call of each parser in the process (metadata load).
//!
//! `cargo bench --bench parsers -- --warm-up-time 1 --measurement-time 3`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use crm_privacy::{Email, Phone};
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use phonenumber::{Mode, country};

const PHONES: &[&str] = &[
    "+1 415 555 2671",
    "+44 20 7946 0958",
    "+49 30 1234567",
    "+41 44 668 18 00",
    "+33 1 42 68 53 00",
    "+81 3-1234-5678",
    "+91 98765 43210",
    "+55 11 96123-4567",
];
const NATIONAL_GB: &[&str] = &["020 7946 0958", "07400 123456", "0161 496 0000"];
const EMAILS_ASCII: &[&str] = &[
    "alice@example.com",
    "first.last+tag@sub.example.co.uk",
    "Bob.Smith@Example.ORG",
    "x@mail.example",
];
const EMAILS_IDN: &[&str] = &["user@bücher.example", "用户@例子.广告", "josé@münchen.de"];
/// A realistic mix: mostly ASCII (some with upper-case domains), two of sixteen
/// internationalized (a domain; a local part and a domain) and one given as Punycode.
const EMAILS_MIX: &[&str] = &[
    "alice@example.com",
    "first.last+tag@sub.example.co.uk",
    "Bob.Smith@Example.ORG",
    "x@mail.example",
    "carol_1984@mail.example.net",
    "d.o'neil@example.ie",
    "support@EXAMPLE.COM",
    "user@bücher.example",
    "info@company-name.example",
    "noreply+news@lists.example.org",
    "j.doe@uni-example.edu",
    "sales@shop.example",
    "eve@xn--bcher-kva.example",
    "frank.miller@example.de",
    "josé@münchen.de",
    "grace.hopper@navy.example.mil",
];

fn first_calls() {
    let t = Instant::now();
    Phone::parse("+41 44 668 18 00").unwrap();
    let phone = t.elapsed();
    let t = Instant::now();
    Phone::parse("+44 20 7946 0958").unwrap();
    let phone2 = t.elapsed();
    let t = Instant::now();
    Email::parse("alice@bücher.example").unwrap();
    let email = t.elapsed();
    println!(
        "first call in process: Phone::parse {phone:?} (second number {phone2:?}), \
         Email::parse {email:?}"
    );
}

fn phone(c: &mut Criterion) {
    let mut g = c.benchmark_group("phone_international");
    g.bench_function("raw_phonenumber_parse", |b| {
        b.iter(|| {
            for s in PHONES {
                black_box(phonenumber::parse(None, black_box(s)).unwrap());
            }
        });
    });
    g.bench_function("raw_parse_is_valid_e164", |b| {
        b.iter(|| {
            for s in PHONES {
                let n = phonenumber::parse(None, black_box(s)).unwrap();
                assert!(phonenumber::is_valid(&n));
                black_box(n.format().mode(Mode::E164).to_string());
            }
        });
    });
    g.bench_function("Phone::parse", |b| {
        b.iter(|| {
            for s in PHONES {
                black_box(Phone::parse(black_box(s)).unwrap());
            }
        });
    });
    g.finish();

    let mut g = c.benchmark_group("phone_national_gb");
    g.bench_function("raw_parse_is_valid_e164", |b| {
        b.iter(|| {
            for s in NATIONAL_GB {
                let n = phonenumber::parse(Some(country::GB), black_box(s)).unwrap();
                assert!(phonenumber::is_valid(&n));
                black_box(n.format().mode(Mode::E164).to_string());
            }
        });
    });
    let gb = Phone::options().region("GB").unwrap();
    g.bench_function("Phone::parse_with", |b| {
        b.iter(|| {
            for s in NATIONAL_GB {
                black_box(Phone::parse_with(black_box(s), &gb).unwrap());
            }
        });
    });
    g.finish();
}

fn raw_idna(addr: &str) -> usize {
    let (_, domain) = addr.rsplit_once('@').unwrap();
    Uts46::new()
        .to_ascii(
            domain.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::Check,
            DnsLength::Verify,
        )
        .unwrap()
        .len()
}

fn email(c: &mut Criterion) {
    for (name, inputs) in [
        ("email_ascii", EMAILS_ASCII),
        ("email_idn", EMAILS_IDN),
        ("email_mix", EMAILS_MIX),
    ] {
        let mut g = c.benchmark_group(name);
        g.bench_function("raw_idna_uts46_strict", |b| {
            b.iter(|| {
                for s in inputs {
                    black_box(raw_idna(black_box(s)));
                }
            });
        });
        g.bench_function("raw_idna_plus_owned_address", |b| {
            b.iter(|| {
                for s in inputs {
                    let (local, domain) = black_box(s).rsplit_once('@').unwrap();
                    let ascii = Uts46::new()
                        .to_ascii(
                            domain.as_bytes(),
                            AsciiDenyList::STD3,
                            Hyphens::Check,
                            DnsLength::Verify,
                        )
                        .unwrap();
                    let mut out = String::with_capacity(local.len() + 1 + ascii.len());
                    out.push_str(local);
                    out.push('@');
                    out.push_str(&ascii);
                    black_box(out);
                }
            });
        });
        g.bench_function("Email::parse", |b| {
            b.iter(|| {
                for s in inputs {
                    black_box(Email::parse(black_box(s)).unwrap());
                }
            });
        });
        g.finish();
    }
}

criterion_group!(benches, phone, email);

fn main() {
    first_calls();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
