fn main() {
    let mut buffer = itoa::Buffer::new();
    println!("hello from rust {}", buffer.format(42));
}
