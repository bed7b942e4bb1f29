# Ansible managed

# Clear any old environment that may conflict.
for key in $( set | awk '{FS="="}  /^OS_/ {print $1}' ); do unset $key ; done
export OS_USER_DOMAIN_NAME=Default
export OS_SYSTEM_SCOPE=all
export OS_USERNAME=cloud-admin
export OS_PASSWORD=6pg7xCicq8b1HTYCv87YKmdRssokpsarU02MnUDr
export OS_AUTH_URL=https://198.51.100.10:5000
export OS_IDENTITY_API_VERSION=3
export OS_REGION_NAME=RegionTwo
export OS_AUTH_PLUGIN=password
export OS_CACERT=/etc/ssl/certs/ca-certificates.crt
