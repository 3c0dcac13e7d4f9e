# Sourced by tests/cli/*.sh: wait_busy PID TICKS waits until process PID has used TICKS clock
# ticks of CPU (its signal handlers are installed and it is searching), so a signal sent next
# does not race the process's start-up on a busy machine.  Without /proc, 3 s of wall time.
# No wall-clock assertion: the loop only gives up after 300 s, or when the process has ended.
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() {
	read -r line <"/proc/$1/stat" 2>/dev/null || { echo 0; return; }
	set -- $line
	echo $((${14} + ${15}))
}
wait_busy() {
	if [ ! -r "/proc/$1/stat" ]; then
		sleep 3
		return
	fi
	n=0
	while [ $n -lt 3000 ] && kill -0 "$1" 2>/dev/null; do
		[ "$(cpu_ticks "$1")" -ge "$2" ] && return
		sleep 0.1
		n=$((n + 1))
	done
}
