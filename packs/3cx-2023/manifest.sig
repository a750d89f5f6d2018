{
  "keyId": "8dbc07acd7677da0d3fecfba87e4da9e634881c74ad85b3a6cd7c2c0036e16aa",
  "signature": "ikW++7gI/2iusQKncXXPdzggUWehPFbeaHXcGF4QO0zI5/UjrMsLrZ3xOQ34LO02wAW7h5/MuyEnBLNpwc7iCQ=="
}
