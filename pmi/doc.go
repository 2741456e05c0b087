// Package pmi speaks the PMI-1 "simple" wire protocol (Flux RFC 13): a
// Server that a job part's launcher runs for the tasks it starts (MPI ranks,
// nested brokers), and a Client that a broker uses when it is itself
// launched under PMI (by our launcher, by MPICH's hydra, or by Slurm's
// `srun --mpi=pmi2`, whose fd also accepts PMI-1).
//
// For MPIs that load a PMI library rather than speak the wire protocol
// (OpenMPI's flux component, Intel MPI), libpmi/ holds our libpmi.so and
// libpmi2.so in C (see libpmi/README.md); LibraryDir finds them beside the
// running binary and LibraryEnv gives a task the variables that point at
// them (FLUX_PMI_LIBRARY_PATH, LD_LIBRARY_PATH, I_MPI_PMI_LIBRARY).
//
// # Wire format
//
// One message per line, "\n"-terminated, space-separated key=value tokens,
// one of them cmd=<name>. A token is split on its first '='. The value=
// token runs to the end of the line (it may hold spaces and '='), except for
// a trailing " found=TRUE" / " found=FALSE" that some hydra versions append.
// A bare word (no '=') continues the msg= value, because RFC 13 lets msg be
// a string with spaces and flux-core sends "msg=command not implemented".
// Tokens may come in any order: hydra puts rc last, Slurm puts it first.
// Lines are at most MaxLineLen bytes.
//
// # Dialect of the Server
//
// The Server answers in hydra's dialect, the one MPICH is tested against
// (see ../shared/testbed/mpich-pmi-transcript.txt):
//
//	cmd=init pmi_version=1 pmi_subversion=1 -> cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0
//	cmd=get_maxes           -> cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=1024
//	cmd=get_appnum          -> cmd=appnum appnum=0
//	cmd=get_my_kvsname      -> cmd=my_kvsname kvsname=<name>
//	cmd=get_universe_size   -> cmd=universe_size size=<N>
//	cmd=put kvsname= key= value= -> cmd=put_result rc=0 msg=success
//	cmd=get kvsname= key=   -> cmd=get_result rc=0 msg=success value=<v>
//	                           cmd=get_result rc=-1 msg=key_<k>_not_found value=unknown
//	cmd=barrier_in          -> cmd=barrier_out  (once every task of the job entered)
//	cmd=finalize            -> cmd=finalize_ack rc=0
//	cmd=abort exitcode=<n>  -> no reply; ServerConfig.Abort kills the job
//
// Unsupported operations get rc=-1 under the reply name RFC 13 gives them
// (publish_name -> publish_result, unpublish_name -> unpublish_result,
// lookup_name -> lookup_result, the multi-line mcmd=spawn ... endcmd ->
// spawn_result) and any other command <c> gets cmd=<c>_result rc=-1. Error
// messages are single words joined by '_' (hydra's style), because MPICH's
// own PMI-1 parser splits replies on spaces.
//
// # Key-value store and barriers
//
// PMI_process_mapping is pre-put when ServerConfig.Mapping is set and fits
// in vallen_max. A put is visible to local tasks at once and is handed to
// ServerConfig.Exchange at the next barrier, which returns the pairs put by
// the other parts of the job. The store holds what the tasks put (each key
// at most 64 bytes, each value at most 1024) and lives until Close: a job of
// N ranks running MPICH puts a few keys per rank.
package pmi
