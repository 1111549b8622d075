#!/bin/sh
# Start one Asterisk node: our configuration from /usr/share/contact-center/asterisk, with
#   ASTERISK_NODE          the node's name (asterisk.conf systemname: it prefixes every
#                          uniqueid and linkedid, so calls of two nodes never collide); the
#                          node's bridge runs with the same CC_NODE
#   CC_AMI_SECRET          the AMI secret the node's bridge uses
#   ASTERISK_AMI_PERMIT    who may log in to AMI (address/mask: the stack's network)
#   ASTERISK_BRIDGE_HOST   where the node's bridge answers FastAGI (port 4573)
#   ASTERISK_TRUNK_MATCH   the carrier's addresses (comma-separated IPs or networks)
#   ASTERISK_AGENT_PASSWORDS  "agent-1001:secret agent-1002:secret ..." (phones registering)
#   ASTERISK_EXTERNAL_ADDRESS, ASTERISK_LOCAL_NET  (optional) the address phones and the
#                          carrier reach this node at, and the networks that are not behind NAT
#   ASTERISK_RTP_START, ASTERISK_RTP_END  the RTP port range (published as the same range)
# Logs go to stdout; queue_log and the CDRs stay in /var/log/asterisk (a volume).
set -eu

fail() { echo "asterisk-node: $*" >&2; exit 64; }
check() { # name value allowed-characters
  [ -n "$2" ] || fail "$1 is not set"
  case "$2" in *[!$3]*) fail "$1 may hold only [$3]" ;; esac
}

node=${ASTERISK_NODE:-}
secret=${CC_AMI_SECRET:-}
permit=${ASTERISK_AMI_PERMIT:-}
bridge=${ASTERISK_BRIDGE_HOST:-}
trunk=${ASTERISK_TRUNK_MATCH:-}
rtp_start=${ASTERISK_RTP_START:-20000}
rtp_end=${ASTERISK_RTP_END:-20999}
check ASTERISK_NODE "$node" 'A-Za-z0-9_-'
check CC_AMI_SECRET "$secret" 'A-Za-z0-9_.~+=/-'
check ASTERISK_AMI_PERMIT "$permit" '0-9./'
check ASTERISK_BRIDGE_HOST "$bridge" 'A-Za-z0-9.-'
check ASTERISK_TRUNK_MATCH "$trunk" '0-9./,'
check ASTERISK_RTP_START "$rtp_start" '0-9'
check ASTERISK_RTP_END "$rtp_end" '0-9'

etc=/etc/asterisk
find "$etc" -mindepth 1 -delete
cp /usr/share/contact-center/asterisk/*.conf "$etc/"
cd "$etc"
sed -i "s/^systemname = .*/systemname = $node/" asterisk.conf
sed -i -e 's/^bindaddr = 127.0.0.1$/bindaddr = 0.0.0.0/' \
       -e "s#^permit = 127.0.0.1/255.255.255.255\$#permit = $permit#" manager.conf
sed -i -e 's/^bind = 127.0.0.1:5060$/bind = 0.0.0.0:5060/' \
       -e "s#^match = 127.0.0.2\$#match = $trunk#" pjsip.conf
sed -i "s#^CC_AGI = .*#CC_AGI = agi://$bridge:4573/route#" extensions.conf
sed -i -e "s/^rtpstart = .*/rtpstart = $rtp_start/" -e "s/^rtpend = .*/rtpend = $rtp_end/" rtp.conf
# logs: the console (stdout, with -f) only, no messages.log file
sed -i '/^messages.log => /d' logger.conf

if [ -n "${ASTERISK_EXTERNAL_ADDRESS:-}" ]; then
  check ASTERISK_EXTERNAL_ADDRESS "$ASTERISK_EXTERNAL_ADDRESS" 'A-Za-z0-9.-'
  check ASTERISK_LOCAL_NET "${ASTERISK_LOCAL_NET:-}" '0-9./,'
  sed -i "/^bind = 0.0.0.0:5060\$/a external_media_address = $ASTERISK_EXTERNAL_ADDRESS\\
external_signaling_address = $ASTERISK_EXTERNAL_ADDRESS\\
local_net = $ASTERISK_LOCAL_NET" pjsip.conf
fi

umask 077
printf 'secret = %s\n' "$secret" >manager_secret.conf
{
  echo "; written by asterisk-node from ASTERISK_AGENT_PASSWORDS"
  for endpoint in $(sed -n 's/^\[\(agent-[0-9]*\)\](agent-endpoint)$/\1/p' pjsip.conf); do
    password=
    for pair in ${ASTERISK_AGENT_PASSWORDS:-}; do
      [ "${pair%%:*}" = "$endpoint" ] && password=${pair#*:}
    done
    # a phone without a password cannot register: it gets one nobody knows
    [ -n "$password" ] || password=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
    check "the password of $endpoint" "$password" 'A-Za-z0-9_.~+=/-'
    printf '\n[%s]\ntype = auth\nauth_type = userpass\nusername = %s\npassword = %s\n' \
      "$endpoint" "$endpoint" "$password"
  done
} >pjsip_agent_secrets.conf

echo "asterisk-node: node $node, AGI at $bridge:4573, AMI open to $permit, trunk $trunk"
exec asterisk -f -n -C "$etc/asterisk.conf"
