//! The `ion` command line.

fn main() {
    eprintln!("ion: the command line is being built; see the README");
    std::process::exit(2);
}
