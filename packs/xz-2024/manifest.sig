{
  "keyId": "8dbc07acd7677da0d3fecfba87e4da9e634881c74ad85b3a6cd7c2c0036e16aa",
  "signature": "nR6Lc1oklaINbyyEilMu5lHgtmewvjoIMigbZD+DoKQGQfBEsqebglq2cFhG3vfGpTEhC8RCxmR6gJAf+UVBAg=="
}
