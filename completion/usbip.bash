# bash completion for usbip, usbipd and usbipa (usbip-ng). Installed under
# the name of each program in bash-completion's completions directory, so
# that it is loaded when one of them is completed first; it needs nothing
# from bash-completion itself.

# The options of each, as their --help says (tests/daemon/completion.sh
# checks that every option of --help is here).
_usbip_global_opts='--debug --log --tcp-port --tls --cert --key --ca --pin --allow-subject
	--tls-datapath --proxy --proxy-auth-file --no-proxy --ws-ping --trusted-proxy --wss-ca --wss-pin
	--wss-cert --wss-key --help --version'
_usbip_commands='list bind unbind attach detach port connect disconnect serve-mtp agent status
	version help'
_usbip_command_opts() {
	case $1 in
	list) echo '--local --remote --device --busid --hardware-id --parsable --json --discover
		--discover-time --help' ;;
	bind | unbind) echo '--busid --hardware-id --json --help' ;;
	attach) echo '--remote --busid --device --hardware-id --persist --daemon --pid --user
		--max-attempts --dead-peer-timeout --json --tcp-port --help' ;;
	detach) echo '--port --all --busid --hardware-id --help' ;;
	port | status) echo '--json --help' ;;
	connect) echo '--remote --busid --hardware-id --device --timeout --persist --daemon --pid
		--user --max-attempts --dead-peer-timeout --json --tcp-port --help' ;;
	disconnect) echo '--remote --busid --hardware-id --device --tcp-port --help' ;;
	serve-mtp) echo '--dir --read-only --name --serial --busid --address --ipv4 --ipv6 --remote
		--persist --dead-peer-timeout --max-attempts --user --section --config --tcp-port
		--listen --listen-mode --listen-group --allow-uid --allow-gid --help' ;;
	agent) echo '--config --check --daemon --pid --persist --user --dead-peer-timeout --metrics
		--help' ;;
	esac
}
_usbip_daemon_opts='--ipv4 --ipv6 --address --tcp-port --daemon --pid --debug --config --check
	--user --tls --cert --key --ca --pin --allow-subject --tls-datapath --dead-peer-timeout --ws --wss
	--ws-ping --trusted-proxy --wss-ca --wss-pin --wss-cert --wss-key --help --version --listen
	--listen-mode --listen-group --allow-uid --allow-gid --metrics --announce'

# The busids of this machine's USB devices (not the hubs' interfaces).
_usbip_local_busids() {
	local d
	for d in /sys/bus/usb/devices/[0-9]*-[0-9]*; do
		d=${d##*/}
		[[ $d == *:* ]] || echo "$d"
	done
}

# Completes the value of option $1 (the word before the cursor); 1 if it takes none.
_usbip_value() {
	local cur=$2
	case $1 in
	-b | --busid | --auto-bind) mapfile -t COMPREPLY < <(compgen -W "$(_usbip_local_busids)" -- "$cur") ;;
	-r | --remote | -a | --address) mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur") ;;
	--dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
	--config | --cert | --key | --ca | --pid | -P | --proxy-auth-file | --wss-ca | --wss-cert | \
		--wss-key)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	--user | -u | --allow-uid) mapfile -t COMPREPLY < <(compgen -u -- "$cur") ;;
	--listen-group | --allow-gid) mapfile -t COMPREPLY < <(compgen -g -- "$cur") ;;
	--tls-datapath) mapfile -t COMPREPLY < <(compgen -W 'auto ktls relay' -- "$cur") ;;
	-t | --tcp-port | -i | --hardware-id | --port | --timeout | --name | --serial | \
		--section | --pin | --proxy | --allow-subject | --allow-device | --allow-host | \
		--max-attempts | --dead-peer-timeout | --ws-ping | --trusted-proxy | --wss-pin | --listen | \
		--listen-mode | --metrics | --discover-time)
		COMPREPLY=() ;;
	*) return 1 ;;
	esac
	return 0
}

_usbip() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} i cmd=''
	COMPREPLY=()
	# The command: the first word that is not an option or a global option's value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-t | --tcp-port | --cert | --key | --ca | --pin | --allow-subject | --tls-datapath | \
			--proxy | --proxy-auth-file | --ws-ping | --trusted-proxy | --wss-ca | --wss-pin | \
			--wss-cert | --wss-key) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]} && break ;;
		esac
	done
	# -d is serve-mtp's --dir (a flag or a busid elsewhere), -p detach's port.
	if [[ $cmd == serve-mtp && $prev == -d ]]; then
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0
	fi
	[[ $cmd == detach && $prev == -p ]] && return 0
	((COMP_CWORD > 1)) && _usbip_value "$prev" "$cur" && return 0
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$_usbip_global_opts" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$_usbip_commands" -- "$cur")
		fi
	elif [[ $cmd == help ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$_usbip_commands" -- "$cur")
	elif [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_usbip_command_opts "$cmd")" -- "$cur")
	fi
}

_usbipd() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} opts
	COMPREPLY=()
	_usbip_value "$prev" "$cur" && return 0
	opts=$_usbip_daemon_opts
	case ${COMP_WORDS[0]##*/} in
	usbipd) opts="$opts --auto-bind --device" ;;
	usbipa) opts="$opts --allow-device --allow-host --allow-any --max-imports --drain" ;;
	esac
	[[ $cur == -* ]] && mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
	return 0
}

complete -F _usbip usbip
complete -F _usbipd usbipd usbipa
