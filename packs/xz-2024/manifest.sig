{
  "keyId": "3b299bc23c22f07c2331723b2000059a7b36f2b89ce8ba8175efb2ee95255802",
  "signature": "AjOvMMBt4AAFKlmWJGdkVrToyiC8kr/3ozelf/v8KdmD8v9fEVwsL9jlRr5s2vKaCKCledFIwcUDAKRiz0PLDA=="
}
