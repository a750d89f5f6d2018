/*
  chainsweep xz-2024 pack: rules written for chainsweep from the public record of the xz-utils backdoor
  (CVE-2024-3094). Each rule checks the file type first, so its own text never matches.
*/

rule CS_XZ_Backdoor_Prologue_ELF
{
  meta:
    title = "ELF carrying the xz backdoor's function prologue (the byte signature of the oss-security detect.sh)"
    description = "ELF carrying the xz backdoor's function prologue (the byte signature of the oss-security detect.sh)"
    severity = "critical"
    confidence = "high"
    reference = "https://www.openwall.com/lists/oss-security/2024/03/29/4"
  strings:
    $prologue = { F3 0F 1E FA 55 48 89 F5 4C 89 CE 53 89 FB 81 E7 00 00 00 80 48 83 EC 28 48 89 54 24 18 48 89 4C 24 10 }
  condition:
    uint32(0) == 0x464C457F and $prologue
}

rule CS_XZ_Backdoor_KillSwitch
{
  meta:
    title = "ELF holding the xz backdoor's kill-switch environment string"
    description = "ELF holding the xz backdoor's kill-switch environment string"
    severity = "high"
    confidence = "medium"
    reference = "https://github.com/Neo23x0/signature-base/blob/master/yara/bkdr_xz_util_cve_2024_3094.yar"
  strings:
    $kill = "yolAbejyiejuvnup=Evjtgvsh5okmkAvj"
  condition:
    uint32(0) == 0x464C457F and $kill
}

rule CS_XZ_Malicious_BuildToHost_M4
{
  meta:
    title = "Malicious build-to-host.m4 (serial 30) from the xz 5.6.x release tarballs"
    description = "Malicious build-to-host.m4 (serial 30) from the xz 5.6.x release tarballs"
    severity = "high"
    confidence = "high"
    reference = "https://research.swtch.com/xz-script"
  strings:
    $header = "# build-to-host.m4 serial 30"
    $grep = "gl_am_configmake=`grep -aErls \"#{4}[[:alnum:]]{5}#{4}$\" $srcdir/ 2>/dev/null`"
    $map = "gl_path_map='tr \"\\t \\-_\" \" \\t_\\-\"'"
  condition:
    $header at 0 and ($grep or $map)
}
