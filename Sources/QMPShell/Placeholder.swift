import QMP
