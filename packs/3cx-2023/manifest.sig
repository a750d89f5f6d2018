{
  "keyId": "3b299bc23c22f07c2331723b2000059a7b36f2b89ce8ba8175efb2ee95255802",
  "signature": "BpvXIYY67aQUyCJugKgAThaLE0Thwp1kPYHet4HUBgoy4yOmU6X9ZAUGojhyYadHHCoCm8Yay8a+Ne4goyjsBw=="
}
