{
  "keyId": "8dbc07acd7677da0d3fecfba87e4da9e634881c74ad85b3a6cd7c2c0036e16aa",
  "signature": "EZ9/m0vBCJ301Hr4YAc0Si8r2KUxCsele2rVXCzcFENqgb6F+jUsNMPKnMSbKt/mZIr7oTU+02iPp/pAx4x2CQ=="
}
