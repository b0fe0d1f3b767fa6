use pgconn_top::parse::Prefix;
fn main() {
    let p = Prefix::compile(&std::env::args().nth(1).unwrap());
    let l = std::env::args().nth(2).unwrap();
    println!("{:?}", p.split(l.as_bytes()));
}
