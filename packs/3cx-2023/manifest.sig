{
  "keyId": "8dbc07acd7677da0d3fecfba87e4da9e634881c74ad85b3a6cd7c2c0036e16aa",
  "signature": "Redxd3lzigMYPHwYfydCye2FqfWHhMpSZu0CDuKuFYkuZxN/p9qfFOzjz9mqQ2NfzlP4IkD4uHx5JxtrikNCAQ=="
}
