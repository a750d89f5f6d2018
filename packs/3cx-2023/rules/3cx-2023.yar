/*
  chainsweep 3cx-2023 pack: rules written for chainsweep from the public record of the March 2023
  3CX DesktopApp compromise (see the pack's indicators.json for the sources table).
  Every rule checks the file type first, so rule text and logs never match themselves.
*/

import "pe"

rule CS_3CX_Authenticode_Appended_FEEDFACE
{
  meta:
    title = "PE with data hidden after its Authenticode signature, FE ED FA CE marker (3CX d3dcompiler_47.dll trick)"
    description = "PE with data hidden after its Authenticode signature, FE ED FA CE marker (3CX d3dcompiler_47.dll trick)"
    severity = "critical"
    confidence = "high"
    reference = "https://www.reversinglabs.com/blog/red-flags-fly-over-supply-chain-compromised-3cx-update"
    technique = "CVE-2013-3900: payload appended inside WIN_CERTIFICATE; the signature stays valid"
  strings:
    $marker = { FE ED FA CE }
  condition:
    uint16(0) == 0x5A4D and pe.is_pe
    and pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].size > 8
    and uint8(pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].virtual_address + 8) == 0x30
    and uint8(pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].virtual_address + 9) == 0x82
    // the marker lies past the end of the DER-encoded PKCS#7 (8-byte WIN_CERTIFICATE header, 4-byte DER header,
    // DER length) and still inside the certificate table
    and $marker in (
      pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].virtual_address + 12
        + uint16be(pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].virtual_address + 10)
      ..
      pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].virtual_address
        + pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].size - 4
    )
}

rule CS_3CX_Trojanized_FFmpeg_DLL
{
  meta:
    title = "Trojanized 3CX ffmpeg.dll: FFmpeg DLL carrying the RC4 key that decrypts the d3dcompiler_47.dll payload"
    description = "Trojanized 3CX ffmpeg.dll: FFmpeg DLL carrying the RC4 key that decrypts the d3dcompiler_47.dll payload"
    severity = "critical"
    confidence = "high"
    reference = "https://www.elastic.co/security-labs/elastic-users-protected-from-suddenicon-supply-chain-attack"
  strings:
    $rc4_key = "3jB(2bsG#@c7"
  condition:
    uint16(0) == 0x5A4D and pe.is_pe and pe.is_dll()
    and $rc4_key
    and for any export in pe.export_details : ( export.name startswith "av" )
}

rule CS_3CX_RC4_Key_In_Executable_Or_Installer
{
  meta:
    title = "3CX loader RC4 key 3jB(2bsG#@c7 inside a PE or an MSI/OLE file"
    description = "3CX loader RC4 key 3jB(2bsG#@c7 inside a PE or an MSI/OLE file"
    severity = "high"
    confidence = "high"
    reference = "https://github.com/Neo23x0/signature-base/blob/master/yara/gen_mal_3cx_compromise_mar23.yar"
  strings:
    $rc4_key = "3jB(2bsG#@c7"
  condition:
    (uint16(0) == 0x5A4D or uint32(0) == 0xE011CFD0) and $rc4_key
}

rule CS_3CX_Trojanized_libffmpeg_dylib
{
  meta:
    title = "Trojanized 3CX libffmpeg.dylib: Mach-O with XOR-0x7A encoded beacon strings"
    description = "Trojanized 3CX libffmpeg.dylib: Mach-O with XOR-0x7A encoded beacon strings"
    severity = "critical"
    confidence = "high"
    reference = "https://objective-see.org/blog/blog_0x73.html"
  strings:
    $sysver = "/System/Library/CoreServices/SystemVersion.plist" xor(0x7A)
    $tutma = "__tutma=" xor(0x7A)
    $ua = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.128 Safari/537.36" xor(0x7A)
  condition:
    (uint32(0) == 0xFEEDFACF or uint32(0) == 0xFEEDFACE or uint32(0) == 0xBEBAFECA)
    and $sysver and ($tutma or $ua)
}

rule CS_3CX_macOS_UpdateAgent
{
  meta:
    title = "3CX macOS second stage UpdateAgent: Mach-O building the 3cx_auth cookie and reading .main_storage"
    description = "3CX macOS second stage UpdateAgent: Mach-O building the 3cx_auth cookie and reading .main_storage"
    severity = "critical"
    confidence = "high"
    reference = "https://objective-see.org/blog/blog_0x74.html"
  strings:
    $cookie = "3cx_auth_id=%s;3cx_auth_token_content=%s;__tutma=true"
    $storage = ".main_storage"
    $config = "config.json"
  condition:
    (uint32(0) == 0xFEEDFACF or uint32(0) == 0xFEEDFACE or uint32(0) == 0xBEBAFECA)
    and $cookie and ($storage or $config)
}

rule CS_3CX_ICONIC_Loader
{
  meta:
    title = "3CX ICONIC loader (samcli.dll): fetches icon%d.ico from the IconStorages dead drop and beacons with __tutma"
    description = "3CX ICONIC loader (samcli.dll): fetches icon%d.ico from the IconStorages dead drop and beacons with __tutma"
    severity = "critical"
    confidence = "high"
    reference = "https://www.volexity.com/blog/2023/03/30/3cx-supply-chain-compromise-leads-to-iconic-incident/"
  strings:
    $dead_drop = "IconStorages/images" ascii wide
    $icon = "icon%d.ico" ascii wide
    $tutma = "__tutma" ascii wide
    $tutmc = "__tutmc" ascii wide
  condition:
    uint16(0) == 0x5A4D and ($dead_drop or ($icon and $tutma and $tutmc))
}

rule CS_3CX_ICONIC_Stealer
{
  meta:
    title = "3CX ICONIC stealer: reads the 3CXDesktopApp config.json and the last 500 browser history entries"
    description = "3CX ICONIC stealer: reads the 3CXDesktopApp config.json and the last 500 browser history entries"
    severity = "critical"
    confidence = "high"
    reference = "https://www.cisa.gov/news-events/analysis-reports/ar23-110a"
  strings:
    $config = "\\3CXDesktopApp\\config.json" ascii wide nocase
    $chrome = "FROM urls ORDER BY id DESC LIMIT 500" ascii wide nocase
    $firefox = "FROM moz_places" ascii wide nocase
  condition:
    uint16(0) == 0x5A4D and $config and ($chrome or $firefox)
}

rule CS_3CX_AVMonitorRefreshEvent
{
  meta:
    title = "PE creating the AVMonitorRefreshEvent event object used by the 3CX loader"
    description = "PE creating the AVMonitorRefreshEvent event object used by the 3CX loader"
    severity = "high"
    confidence = "medium"
    reference = "https://github.com/Neo23x0/signature-base/blob/master/yara/gen_mal_3cx_compromise_mar23.yar"
  strings:
    $event = "AVMonitorRefreshEvent" ascii wide
  condition:
    uint16(0) == 0x5A4D and $event
}

rule CS_3CX_ICONIC_ICO_Payload
{
  meta:
    title = "ICONIC dead-drop icon: ICO whose PNG ends in IEND followed by $ and an encrypted base64 C2 address"
    description = "ICONIC dead-drop icon: ICO whose PNG ends in IEND followed by $ and an encrypted base64 C2 address"
    severity = "critical"
    confidence = "high"
    reference = "https://www.volexity.com/blog/2023/03/30/3cx-supply-chain-compromise-leads-to-iconic-incident/"
  strings:
    $iend_blob = /IEND\xAEB`\x82\$[A-Za-z0-9+\/]{32}/
  condition:
    uint32(0) == 0x00010000 and filesize < 120KB and filesize > 512
    and $iend_blob in (filesize - 500 .. filesize)
}
