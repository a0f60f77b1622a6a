fn main() {
    ion_client_build::Builder::new().run_or_exit();
}
