{
  "keyId": "3b299bc23c22f07c2331723b2000059a7b36f2b89ce8ba8175efb2ee95255802",
  "signature": "hiUuP/zz7GFTVRTk8eJKuSQCSSEXBTA8il+PQUc5vrQ7GctTNrsMErpqR/vpilwYmEjtYnFjloUJdPnrPbNACA=="
}
